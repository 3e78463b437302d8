"""A study launched by the code before the study package's move to files/read/run resumes on the
code after it: Tune's pickled experiment names the old module paths (study.tune_trial,
study.recorder, study.terminal, study.search, …), which study/__init__.py still answers."""

import subprocess
from pathlib import Path

import pytest
from studyutil import cli, kill_9_while_training, start, trial_runs, write_tiny

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "edb70d25b48faa062b1285dfaf0248907bc97d99"  # the last commit before the move


@pytest.fixture
def old_tree(tmp_path):
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{BEFORE}^{{commit}}"])
    if known.returncode != 0:
        pytest.skip(f"this clone does not hold {BEFORE[:10]} (a shallow clone)")
    tree = tmp_path / "before"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), BEFORE],
        check=True,
        capture_output=True,
    )
    yield tree
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)])


@pytest.mark.slow
def test_a_study_launched_before_the_move_resumes_after_it(tmp_path, old_tree):
    cwd = tmp_path / "work"
    cwd.mkdir()
    config = write_tiny(cwd)
    # the old code first on the path: the driver and Ray's workers import study from it
    driver = start(["launch", str(config), "--name", "moved"], cwd, PYTHONPATH=str(old_tree))
    kill_9_while_training(driver, cwd / "mlflow.db", "moved")
    assert (cwd / "studies" / "moved" / "tune" / "tuner.pkl").is_file()
    proc = cli(["resume", "moved"], cwd)  # the code after the move
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _, _, runs = trial_runs(cwd, "moved")
    trials = [r.data.tags["scalefree.trial_id"] for r in runs]
    assert len(trials) == len(set(trials)) == 3  # every trial once
    assert all(r.info.status == "FINISHED" for r in runs)
