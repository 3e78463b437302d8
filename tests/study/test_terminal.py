"""What a person reads: quiet, short lines without a terminal, and `scalefree status` / `list`."""

import os
import signal
import time

import pytest
from studyutil import cli, start, write_tiny

from study.files.directory import driver_lock

# The first trial draws lr ≈ 1.7e-3 and finishes, the second lr ≈ 2.0e34 and diverges.
ONE_FAILS = (
    "space: {stages: [1, 2], filters: [4, 8], fc: [32], batch_size: [32], lr: [0.001, 1.0e36]}\n"
    "search: {num_samples: 2, max_concurrent: 1, sampler_seed: 4}\n"
)
NOISE = ("Checkpoint successfully created", "Warning", "Traceback", "== Status ==", "INFO")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("terminal")
    proc = cli(["launch", str(write_tiny(cwd, ONE_FAILS)), "--name", "quiet"], cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return cwd, proc


def test_output_without_a_terminal_is_short_plain_lines(study):
    # Rule: no library chatter, no traceback, no carriage return, every line at most 120
    # characters; one progress line per finished trial, one line for the failed one naming the
    # file that holds its whole error.
    cwd, proc = study
    out = proc.stdout + proc.stderr
    assert "\r" not in out
    for needle in NOISE:
        assert needle not in out, needle
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 120, max(lines, key=len)
    finished = [line for line in lines if " finished in " in line]
    failed = [line for line in lines if " failed after " in line]
    assert len(finished) == 1 and len(failed) == 1, out
    assert "diverged" in failed[0]
    path = cwd / failed[0].split(" · ")[1]  # relative to where the study was launched
    assert path.is_file() and "diverged" in path.read_text()
    assert any("started" in line for line in lines) and any(
        "forward done" in line for line in lines
    )


def test_status_of_a_finished_study_and_the_list(study):
    cwd, _ = study
    proc = cli(["status", "quiet"], cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("quiet: finished")
    assert "2 planned: 1 finished, 1 failed" in proc.stdout and "best so far:" in proc.stdout
    assert "report:" in proc.stdout and "scalefree ui quiet" in proc.stdout
    listed = cli(["list"], cwd, timeout=120)
    (row,) = [line for line in listed.stdout.splitlines() if line.startswith("quiet ")]
    assert "finished" in row and "1/2 finished" in row and "tiny.yaml" in row


def test_status_while_a_driver_holds_the_lock_says_running_and_who(study):
    # The lock is what a live driver holds (the kernel drops it when the driver dies).
    cwd, _ = study
    with driver_lock(cwd / "studies" / "quiet"):
        proc = cli(["status", "quiet"], cwd, timeout=120)
    assert proc.stdout.startswith(f"quiet: running (pid {os.getpid()} on ")
    assert cli(["status", "quiet"], cwd, timeout=120).stdout.startswith("quiet: finished")


ALL_DIVERGE = (
    "space: {stages: [1, 2], filters: [4, 8], fc: [32], batch_size: [32], lr: [1.0e35, 1.0e36]}\n"
    "search: {num_samples: 2, max_concurrent: 2}\n"
)


@pytest.mark.slow
def test_status_after_kill_9_and_after_every_trial_failed(tmp_path):
    config = write_tiny(tmp_path, "forward_train: {epochs: 6}\n")
    driver = start(["launch", str(config), "--name", "killed"], tmp_path)
    deadline = time.time() + 300
    while time.time() < deadline:
        proc = cli(["status", "killed"], tmp_path, timeout=120)
        if "1 running" in proc.stdout or "2 running" in proc.stdout:
            break
        time.sleep(2)
    assert proc.stdout.startswith("killed: running (pid "), proc.stdout
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    proc = cli(["status", "killed"], tmp_path, timeout=120)
    assert proc.stdout.startswith("killed: interrupted"), proc.stdout
    assert "scalefree resume killed" in proc.stdout

    dead = cli(["launch", str(write_tiny(tmp_path, ALL_DIVERGE)), "--name", "dead"], tmp_path)
    assert dead.returncode == 1
    proc = cli(["status", "dead"], tmp_path, timeout=120)
    assert proc.stdout.startswith("dead: failed") and "2 failed" in proc.stdout
    listed = cli(["list"], tmp_path, timeout=120).stdout
    assert [line.split()[:2] for line in listed.splitlines()[1:]] == [
        ["killed", "interrupted"],
        ["dead", "failed"],
    ]


def test_a_confirmation_is_called_after_its_trial_and_expected_to_take_its_time():
    # Rule: a confirmation's lines name the search trial it confirms (not Tune's grid id), and
    # its ETA rests on that trial's measured seconds a seed times the round's seeds, so the
    # scoring after the last epoch is not forgotten.
    import types

    from study.run.progress import StudyProgress, _Trial

    progress = StudyProgress("s", ".", ["alpha"], ["min"], {}, 1, per_seed={"3a1f": 40.0})
    config = {"confirm": {"stages": 1, "confirms": "3a1f", "seeds": [4, 5, 6]}}
    known = _Trial("49fb5_00000", "p1", total=30)
    progress._name_round(types.SimpleNamespace(config=config), known)
    assert known.shown == "3a1f confirm" and known.expected == 120.0
    known.started, known.done = 1000.0, 30  # every epoch done, scoring still to come
    assert known.eta(1000.0 + 100.0) == pytest.approx(20.0)
    ablation = {"confirm": {"ablates": "3a1f", "level": "stages=2", "seeds": [4, 5]}}
    level = _Trial("49fb5_00001", "p2", total=20)
    progress._name_round(types.SimpleNamespace(config=ablation), level)
    assert level.shown == "3a1f stages=2" and level.expected == 80.0
