"""No secret kept: a password in tracking.uri never reaches a file, a param or an error line; YAML
alias expansion is bounded; a damaged study file gives one line."""

from __future__ import annotations

import json

import pytest

from study import cli
from study.files.config import MAX_ALIASES, config_yaml, load_config
from study.files.directory import StudyInfo, read_study
from study.files.tracking import redact, unredact

SECRET_URI = "postgresql://scalefree:s3cret-pw@db.example:5432/runs"


def test_redact_hides_only_the_password():
    assert redact(SECRET_URI) == "postgresql://scalefree:***@db.example:5432/runs"
    assert redact("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"
    assert redact("http://user@host:5000") == "http://user@host:5000"


def test_unredact_takes_the_full_uri_from_the_environment_or_says_how(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ValueError, match=r"set MLFLOW_TRACKING_URI") as err:
        unredact(redact(SECRET_URI))
    assert "s3cret" not in str(err.value)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", SECRET_URI)
    assert unredact(redact(SECRET_URI)) == SECRET_URI


def test_config_yaml_and_study_json_never_hold_the_password(tmp_path, monkeypatch):
    cfg = load_config("smoke", [f"tracking.uri={SECRET_URI}"])
    assert "s3cret" not in config_yaml(cfg) and "***" in config_yaml(cfg)
    info = StudyInfo("s", SECRET_URI, "1", "p", dir=tmp_path)
    info.save()
    assert "s3cret" not in (tmp_path / "study.json").read_text()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", SECRET_URI)
    assert read_study(str(tmp_path)).tracking_uri == SECRET_URI


def test_an_error_line_about_the_uri_does_not_show_the_password(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = cli.main(["config", "smoke", "--set", "tracking.uri=http://u:s3cret@127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and "s3cret" not in err and "u:***@" in err


def test_a_yaml_alias_bomb_is_refused_in_one_short_line(tmp_path, capsys):
    levels = [f"a0: &a0 [{', '.join(['x'] * 9)}]"]
    levels += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n")  # 72 aliases, 9^9 strings once expanded
    code = cli.main(["config", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and len(err) < 300
    assert f"more than {MAX_ALIASES} aliases" in err


@pytest.mark.parametrize("content", ["", "{}", '{"name": "s"', "[1, 2]"])
def test_a_damaged_study_json_gives_one_line(tmp_path, monkeypatch, capsys, content):
    study = tmp_path / "studies" / "s"
    study.mkdir(parents=True)
    (study / "study.json").write_text(content)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["report", "s"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "must have a readable study.json" in err


def test_a_corrupt_optuna_database_gives_one_line(tmp_path, monkeypatch, capsys):
    from study.files.config import config_yaml as dump

    study = tmp_path / "studies" / "s"
    study.mkdir(parents=True)
    (study / "config.yaml").write_text(dump(load_config("smoke")))
    (study / "optuna.db").write_bytes(b"this is not a database" * 100)
    info = {"name": "s", "tracking_uri": f"sqlite:///{tmp_path}/m.db", "experiment_id": "1",
            "parent_run_id": "p"}  # fmt: skip
    (study / "study.json").write_text(json.dumps(info))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["resume", "s"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "readable Optuna database" in err, err
