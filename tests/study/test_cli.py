"""The command line: bad input → one line, exit code 2, nothing created."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from study.cli import main


def _run(args, cwd):
    env = {**os.environ, "MLFLOW_TRACKING_URI": ""}
    return subprocess.run(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["launch", "smoke", "--set", "forward.stages=9"], "forward.stages"),
        (["launch", "smoke", "--set", "bogus=1"], "bogus: is not a known key"),
        (["launch", "nothing.yaml"], "config: must be a preset"),
        (
            ["launch", "smoke", "--set", "tracking.uri=http://127.0.0.1:9"],
            "tracking.uri: must name a reachable MLflow server",
        ),
        (
            ["launch", "smoke", "--address", "127.0.0.1:9"],
            "--address: must name a reachable Ray cluster",
        ),
        (["launch", "smoke", "--name", "../escape"], "--name: must be letters"),
        (["resume", "no-such-study"], "study: must name a study directory"),
        (["config", "smoke", "--set", "forward.dropout=2"], "forward.dropout: must be in [0, 1)"),
        (["launch", "smoke", "--name", ""], "--name: must be letters"),
        (["launch", "smoke", "--name", "ab\n"], "--name: must be letters"),
        (["launch", "smoke", "--set", "device=banana"], "device: must be auto, cpu, cuda"),
        (["launch", "smoke", "--set", "space.dropout=[nan,0.3]"], "space.dropout: must be [low"),
        (["ui", "--port", "99999"], "--port: must be a TCP port"),
        (["launch", "smoke", "--set", "tracking.uri=sqlite:////proc/x/m.db"], "must name a file"),
        (["launch", "smoke", "--set", "search.num_samples=99999999999999999999999"], "at most"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_creates_nothing(args, fragment, tmp_path):
    proc = _run(args, tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0] and lines[0].startswith("scalefree: error:")
    assert list(tmp_path.iterdir()) == []


def test_config_prints_yaml_and_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["config", "smoke", "--set", "search.num_samples=7"]) == 0
    out = capsys.readouterr().out
    assert "num_samples: 7" in out and "filters:" in out
    assert list(Path(tmp_path).iterdir()) == []


def test_an_empty_yaml_is_no_study(tmp_path):
    # Rule: an empty file would silently become a 40,000-structure default study; refuse it.
    (tmp_path / "empty.yaml").write_text("")
    proc = _run(["launch", "empty.yaml"], tmp_path)
    assert proc.returncode == 2 and "config: must set at least one key" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["empty.yaml"]


def test_a_default_name_is_derived_from_any_file_name(tmp_path):
    # Rule: without --name the study is named after the file, made a valid name; a file name with
    # a space is not blamed on --name.
    from study.run.launch import _stem
    from study.run.launch import free_name as _free_name

    assert _stem("dir/my study.yaml") == "my-study" and _stem("smoke") == "smoke"
    assert _stem("§.yaml") == "study"
    (tmp_path / "my-study").mkdir()
    assert _free_name(tmp_path, _stem("my study.yaml")) == "my-study-2"
