"""Interrupt anywhere, resume always: kill -9 and Ctrl-C (SIGINT) at each point a user can stop a
study, then `scalefree resume`. After the resume every trial has ended once, with one MLflow run,
Optuna agrees with MLflow, nothing is left RUNNING, and no process or temporary folder remains.

The study stops at named points (study/faults.py): the driver before the dataset, a trial before
its first epoch with Tune's snapshots held back (the window between tuner.pkl and Tune's first
snapshot), a trial mid-training, a trial between its last epoch and its final metrics, the driver
before the report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from studyutil import CONTRACT_METRICS, cli, env, trial_runs, write_tiny

pytestmark = pytest.mark.slow

SAMPLES = 2
STUDY = f"search: {{num_samples: {SAMPLES}, max_concurrent: 2}}\n"
POINTS = ("data", "trial_start", "training", "scoring", "report")
OBJECTIVES = ("validated_skill", "alpha")  # the smoke preset's default objectives


def _ray_processes() -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    pids = set()
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if ("ray" in args and "/ray/" in args) or args.startswith("ray::"):
            pids.add(int(pid))
    return pids


def _sessions() -> set[str]:
    root = Path(tempfile.gettempdir()) / "ray"
    return {p.name for p in root.glob("session_2*")} if root.is_dir() else set()


def _terminal_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop_at(tmp_path: Path, name: str, point: str, sig: signal.Signals) -> int:
    """Launch the tiny study, wait until it reaches ``point``, send ``sig`` to its process group
    (what Ctrl-C in a terminal does), and return its exit code."""
    marker, log = tmp_path / "paused", tmp_path / f"{name}.stderr"
    extra = {"SCALEFREE_PAUSE_AT": point, "SCALEFREE_PAUSE_FILE": str(marker)}
    if point == "trial_start":
        extra["TUNE_GLOBAL_CHECKPOINT_S"] = "100000"  # no experiment snapshot before the kill
    driver = subprocess.Popen(
        [sys.executable, "-m", "study.cli", "launch", str(write_tiny(tmp_path, STUDY))]
        + ["--name", name],
        cwd=tmp_path,
        env=env(**extra),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),  # a pipe nobody reads would fill up and block the driver
        start_new_session=True,
        # As in a terminal: a test run started in the background of a script inherits SIGINT
        # ignored (POSIX shells do that to background jobs), and Python then never raises
        # KeyboardInterrupt in the driver.
        preexec_fn=_terminal_signals,
    )
    deadline = time.time() + 400
    while not marker.exists():
        assert driver.poll() is None, f"ended before {point}: {log.read_text()[-2000:]}"
        assert time.time() < deadline, f"never reached {point}"
        time.sleep(0.5)
    time.sleep(1.0)
    os.killpg(driver.pid, sig)
    try:
        driver.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(driver.pid, signal.SIGKILL)
        pytest.fail(f"{sig.name} at {point}: the driver did not exit within 120 s")
    if sig == signal.SIGINT:
        lines = [line for line in log.read_text().splitlines() if line.startswith("scalefree")]
        assert lines == [
            "scalefree: interrupted; `scalefree resume` continues where this stopped"
        ], lines
    return driver.returncode


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill9", "sigint"])
@pytest.mark.parametrize("point", POINTS)
def test_interrupted_study_resumes_to_every_trial_once(tmp_path, point, sig):
    name = f"{point}-{sig.name.lower()}"
    processes, sessions = _ray_processes(), _sessions()
    code = _stop_at(tmp_path, name, point, sig)
    assert code == (-9 if sig == signal.SIGKILL else 130), code
    if sig == signal.SIGINT:  # an interrupted driver leaves nothing RUNNING in MLflow
        client, info, runs = trial_runs(tmp_path, name)
        assert client.get_run(info["parent_run_id"]).info.status == "KILLED"
        assert all(r.info.status != "RUNNING" for r in runs)

    proc = cli(["resume", name], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    client, info, runs = trial_runs(tmp_path, name)
    parent = client.get_run(info["parent_run_id"])
    assert parent.info.status == "FINISHED"
    # the stop's reason does not outlive the study that finished after it
    assert "scalefree.driver_exit" not in parent.data.tags
    assert not [r for r in runs if "scalefree.driver_exit" in r.data.tags]
    trial_ids = [r.data.tags["scalefree.trial_id"] for r in runs]
    assert len(runs) == SAMPLES and len(set(trial_ids)) == SAMPLES, [
        (r.info.status, r.data.tags.get("scalefree.trial_id")) for r in runs
    ]
    assert all(r.info.status == "FINISHED" for r in runs), [r.info.status for r in runs]
    assert all(set(CONTRACT_METRICS) <= set(r.data.metrics) for r in runs)
    study = optuna.load_study(
        study_name=name, storage=f"sqlite:///{tmp_path}/studies/{name}/optuna.db"
    )
    states = [t.state.name for t in study.trials]
    assert "RUNNING" not in states, states
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == SAMPLES, states
    for run in runs:
        values = [run.data.metrics[key] for key in OBJECTIVES]
        matches = [t for t in complete if t.values == pytest.approx(values, rel=1e-12)]
        assert len(matches) == 1, (values, [t.values for t in complete])
    # Nothing left behind: no Ray process or session folder of ours, no trial work folder.
    deadline = time.time() + 30
    while (left := _ray_processes() - processes) and time.time() < deadline:
        time.sleep(1)
    assert not left, subprocess.run(
        ["ps", "-o", "pid,ppid,args", "-p", ",".join(map(str, left))],
        capture_output=True,
        text=True,
    ).stdout
    assert _sessions() <= sessions
    assert not list(Path(tempfile.gettempdir()).glob(f"scalefree-{name}-*"))


RANDOM_SIGNALS = int(os.environ.get("SCALEFREE_RANDOM_SIGNALS", "20"))
ONE_TRIAL = "search: {num_samples: 1, max_concurrent: 1}\n"


def test_a_ctrl_c_at_a_random_moment_is_never_lost(tmp_path):
    # Rule: SIGINT to the driver's process group at a random moment of its first seconds (Ray
    # starting, the dataset, Tune setting up: where a garbage-collector callback once swallowed
    # it and the study ran on and exited 0) always ends the command with exit 130 and its one
    # line, and `resume` always finishes the study. Every moment is drawn afresh; the count is
    # SCALEFREE_RANDOM_SIGNALS (20).
    import random

    rng = random.Random(7)
    config = write_tiny(tmp_path, ONE_TRIAL)
    cli(["generate", str(config), "--out", str(tmp_path / "studies" / "_data")], tmp_path)
    outcomes = []
    for k in range(RANDOM_SIGNALS):
        name, log = f"r{k}", tmp_path / f"r{k}.stderr"
        driver = subprocess.Popen(
            [sys.executable, "-m", "study.cli", "launch", str(config), "--name", name],
            cwd=tmp_path,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            start_new_session=True,
            preexec_fn=_terminal_signals,
        )
        moment = rng.uniform(0.3, 9.0)
        time.sleep(moment)
        if driver.poll() is not None:  # finished before the signal: nothing to interrupt
            outcomes.append((moment, "done first"))
            continue
        os.killpg(driver.pid, signal.SIGINT)
        try:
            driver.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGKILL)
            pytest.fail(f"SIGINT at {moment:.1f} s: the driver did not exit within 120 s")
        lines = [line for line in log.read_text().splitlines() if line.startswith("scalefree")]
        assert driver.returncode == 130, (moment, driver.returncode, log.read_text()[-2000:])
        assert lines == ["scalefree: interrupted; `scalefree resume` continues where this stopped"]
        proc = cli(["resume", name], tmp_path)
        assert proc.returncode == 0, (moment, proc.stdout[-2000:] + proc.stderr[-2000:])
        _, _, runs = trial_runs(tmp_path, name)
        assert [r.info.status for r in runs] == ["FINISHED"], (moment, runs)
        outcomes.append((moment, "130, resumed whole"))
    interrupted = [o for o in outcomes if o[1] != "done first"]
    assert len(interrupted) >= RANDOM_SIGNALS * 3 // 4, outcomes
