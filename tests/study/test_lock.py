"""One driver per study: a lock in the study directory that a dead driver cannot leave behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from studyutil import cli

from study.files.directory import LOCK_FILE, driver_lock

HOLD = (
    "import sys, time; from pathlib import Path; from study.files.directory import driver_lock\n"
    "with driver_lock(Path(sys.argv[1])):\n"
    "    print('held', flush=True); time.sleep(120)\n"
)


def _holder(directory):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(directory)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_driver_is_refused_with_the_holder_named(tmp_path):
    # Rule: while one driver holds the study, another gets one line naming the holder.
    holder = _holder(tmp_path)
    try:
        with pytest.raises(ValueError, match=rf"must not already be running \(pid {holder.pid} on"):
            with driver_lock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_driver_is_not_in_the_way(tmp_path):
    # Rule: kill -9 of the driver releases its lock (the kernel drops the flock with the process),
    # though the lock file stays.
    holder = _holder(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (tmp_path / LOCK_FILE).is_file()
    with driver_lock(tmp_path):
        assert f"pid {os.getpid()}" in (tmp_path / LOCK_FILE).read_text()


def test_resume_of_a_running_study_exits_2_with_one_line(tmp_path):
    # Rule: `scalefree resume` of a study whose driver is alive is refused before touching it.
    study = tmp_path / "studies" / "busy"
    study.mkdir(parents=True)
    info = {
        "name": "busy",
        "tracking_uri": "sqlite:///x.db",
        "experiment_id": "1",
        "parent_run_id": "p",
    }
    (study / "study.json").write_text(json.dumps(info))
    holder = _holder(study)
    try:
        before = sorted(p.name for p in study.iterdir())
        started = time.time()
        proc = cli(["resume", "busy"], tmp_path, timeout=60)
        assert proc.returncode == 2 and time.time() - started < 60
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "study: must not already be running" in lines[0], lines
        assert sorted(p.name for p in study.iterdir()) == before
    finally:
        holder.kill()
        holder.wait()


def test_resume_refuses_an_edited_config_naming_the_key(tmp_path):
    # Rule: a config.yaml edited after launch (here data.seed) would make a new dataset under the
    # finished trials; resume names the key and exits 2 before starting anything.
    from study.files.config import config_yaml, load_config
    from study.run.launch import _fingerprint

    study = tmp_path / "studies" / "edited"
    study.mkdir(parents=True)
    launched = load_config("smoke")
    info = {
        "name": "edited",
        "tracking_uri": "sqlite:///x.db",
        "experiment_id": "1",
        "parent_run_id": "p",
        "config": _fingerprint(launched),
    }
    (study / "study.json").write_text(json.dumps(info))
    (study / "config.yaml").write_text(config_yaml(load_config("smoke", ["data.seed=7"])))
    proc = cli(["resume", "edited"], tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "data.seed: must stay as launched (0) to resume 'edited', but got 7." in proc.stderr
    # Where the study runs may change: more CPUs per trial is no change to finished trials.
    (study / "config.yaml").write_text(
        config_yaml(load_config("smoke", ["resources.cpus_per_trial=2"]))
    )
    proc = cli(["resume", "edited"], tmp_path, timeout=60)
    assert "must stay as launched" not in proc.stderr
