"""Running the CLI as users do, in a scratch directory, and reading back what MLflow holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from contract import CONTRACT_METRICS  # noqa: F401 - re-exported to the study tests

TINY = """\
preset: smoke
data: {size: 8, n_train: 256, n_val: 64, n_test: 64, shard_size: 64}
forward: {stages: 1, filters: [8], fc: 32}
inverse_net: {stages: 1, filters: [8], fc: 32}
forward_train: {epochs: 2}
inverse_train: {epochs: 2}
score: {n_generated: 32, n_attacked: 2, rdf_bins: 20}
space: {stages: [1, 2], filters: [4, 8], fc: [32], batch_size: [32]}
search: {num_samples: 3, max_concurrent: 2}
"""


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    out.update(RAY_DEDUP_LOGS="0", PYTHONUNBUFFERED="1", **extra)
    return out


def cli(
    args: list[str], cwd: Path, *, timeout: float = 600, **extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd,
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_tiny(cwd: Path, extra: str = "") -> Path:
    """TINY plus ``extra``; a section repeated in ``extra`` replaces TINY's whole section."""
    path = cwd / "tiny.yaml"
    path.write_text(TINY + extra)
    return path


def trial_runs(cwd: Path, name: str):
    import mlflow

    info = json.loads((cwd / "studies" / name / "study.json").read_text())
    client = mlflow.MlflowClient(info["tracking_uri"])
    # the study's runs below its parent: trials, and the confirmations nested under them
    runs = client.search_runs(
        [info["experiment_id"]], filter_string=f"tags.`scalefree.study` = '{name}'"
    )
    runs = [r for r in runs if r.info.run_id != info["parent_run_id"]]
    return client, info, runs


def start(args: list[str], cwd: Path, *, stderr=subprocess.DEVNULL, **extra: str):
    """The CLI in the background, in its own session (a process group a test can kill)."""
    return subprocess.Popen(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd,
        env=env(**extra),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )


def run_states(db: Path, study: str) -> list[str]:
    """Statuses of the study's trial runs in a SQLite tracking store (the parent run left out)."""
    import sqlite3

    try:
        with sqlite3.connect(db) as con:
            query = "select status from runs where name != ?"
            return [s for (s,) in con.execute(query, (study,))]
    except sqlite3.Error:
        return []


def kill_9_while_training(driver, db: Path, study: str, *, timeout: float = 300) -> None:
    """kill -9 the driver's process group once one trial finished and another is training."""
    import os
    import signal
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        states = run_states(db, study)
        if states.count("FINISHED") >= 1 and states.count("RUNNING") >= 1:
            break
        assert driver.poll() is None, "the study ended before it could be interrupted"
        time.sleep(0.5)
    else:
        raise AssertionError(f"no finished trial within {timeout} s")
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    time.sleep(2)


def tagged_run_states(db: Path, tag: str) -> list[str]:
    """Statuses of the runs that carry ``tag`` (e.g. scalefree.confirms) in a SQLite store."""
    import sqlite3

    try:
        with sqlite3.connect(db) as con:
            query = "select r.status from runs r join tags t on t.run_uuid = r.run_uuid"
            return [s for (s,) in con.execute(query + " where t.key = ?", (tag,))]
    except sqlite3.Error:
        return []


def kill_9_when_running(driver, db: Path, tag: str, count: int, *, timeout: float = 300) -> None:
    """kill -9 the driver's process group once ``count`` runs tagged ``tag`` train."""
    import os
    import signal
    import time

    deadline = time.time() + timeout
    while time.time() < deadline and tagged_run_states(db, tag).count("RUNNING") < count:
        assert driver.poll() is None, "the driver ended before it could be interrupted"
        time.sleep(0.5)
    time.sleep(3)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()


def launched_trial_ids(cwd: Path, name: str, samples: int) -> list[str]:
    """Launch the tiny study ``name`` with ``samples`` trials; its trials' ids."""
    config = write_tiny(cwd, f"search: {{num_samples: {samples}, max_concurrent: 2}}\n")
    proc = cli(["launch", str(config), "--name", name], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, _, runs = trial_runs(cwd, name)
    return [r.data.tags["scalefree.trial_id"] for r in runs]
