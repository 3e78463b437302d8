"""A studies folder that runs out of space: one line naming it and what it needs, exit 1, no
traceback, nothing half-written; `resume` finishes the study once there is room. The folder is a
small tmpfs (root mounts it; CI is root)."""

import os
import shutil
import subprocess

import pytest
from studyutil import cli, trial_runs, write_tiny

pytestmark = pytest.mark.slow
SIZE_MB = 8


@pytest.fixture
def small_disk(tmp_path):
    studies = tmp_path / "studies"
    studies.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI is root)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(studies)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode()[:200]}")
    try:
        yield studies
    finally:
        subprocess.run(["umount", "-l", str(studies)], capture_output=True)


def test_a_full_studies_folder_stops_the_study_in_one_line_and_resume_finishes_it(
    tmp_path, small_disk
):
    config = write_tiny(tmp_path, "search: {num_samples: 3, max_concurrent: 2}\n")
    # the dataset first, so that what fills the disk is the study's own files
    assert (
        cli(["generate", str(config), "--out", str(small_disk / "_data")], tmp_path).returncode == 0
    )
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * (free - 1_200_000))  # room for part of one trial
    proc = cli(["launch", str(config), "--name", "full"], tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    assert lines[0].startswith("scalefree: error: tracking.studies_dir: must have room")
    assert str(small_disk) in lines[0] and "scalefree resume full" in lines[0]
    # Room again: resume finishes every trial once.
    filler.unlink()
    proc = cli(["resume", "full"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _, _, runs = trial_runs(tmp_path, "full")
    trials = [r.data.tags["scalefree.trial_id"] for r in runs]
    assert len(trials) == len(set(trials)) == 3 and all(r.info.status == "FINISHED" for r in runs)
