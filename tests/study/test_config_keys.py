"""Every config key against hostile values: `config` and `launch` apply the same rules; a rejection
is exit 2 with one line under 300 characters, and nothing is created either way.

`launch` runs in-process up to the moment it would create the study (its preflight), so the test
covers the CLI's parsing, the config's rules and the launch checks without starting Ray.
"""

from __future__ import annotations

import pytest

from study import cli
from study.files.config import StudyConfig, study_to_flat

KEYS = sorted(study_to_flat(StudyConfig()))
VALUES = {
    "nan": "nan",
    "inf": "inf",
    "-inf": "-inf",
    "huge": "1e300",
    "huge_int": "99999999999999999999999",
    "negative": "-1",
    "zero": "0",
    "empty_list": "[]",
    "wrong_type": "banana",
    "nested": "{a: 1}",
}


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A scratch cwd whose launch stops after its checks, returning what it would create."""
    from study.run import launch

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")

    def checked_only(cfg, *, name, address=None, preset="", start_from=None):
        return launch.preflight(cfg, name, address)

    monkeypatch.setattr(launch, "launch", checked_only)
    return tmp_path


def _run(argv: list[str], capsys) -> tuple[int, list[str]]:
    code = cli.main(argv)
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("label", list(VALUES))
def test_config_and_launch_agree_on_every_key(sandbox, capsys, label):
    value = VALUES[label]
    disagree, bad_lines = [], []
    for key in KEYS:
        item = f"{key}={value}"
        code_config, lines_config = _run(["config", "smoke", "--set", item], capsys)
        code_launch, lines_launch = _run(
            ["launch", "smoke", "--set", item, "--name", "probe"], capsys
        )
        if code_config != code_launch:
            disagree.append((item, code_config, code_launch, lines_config + lines_launch))
        for code, lines in ((code_config, lines_config), (code_launch, lines_launch)):
            if code != 0 and not (code == 2 and len(lines) == 1 and len(lines[0]) < 300):
                bad_lines.append((item, code, lines[:3]))
    assert disagree == []
    assert bad_lines == []
    assert sorted(p.name for p in sandbox.iterdir()) == []  # no studies/, no mlflow.db
