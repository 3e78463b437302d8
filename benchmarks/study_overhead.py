"""Study overhead: the fraction of the smoke study's wall time spent outside trial compute.

Runs ``scalefree launch smoke`` (a real local Ray, Tune + Optuna, MLflow on SQLite) in a scratch
directory and compares, in that one run:

* wall: from starting the command to its exit (Python start-up, Ray, Tune, Optuna, MLflow, report);
* busy: the union of the intervals in which something computed — dataset generation (parent-run
  metric ``data_seconds``), the dataset baselines' task (parent tag
  ``scalefree.baselines_interval``, when the study computed them) and every trial's ``run_trial``
  with the files and figures it writes (tag ``scalefree.compute_interval``).

overhead = 1 − busy / wall (target ≤ 15 %). Usage: python benchmarks/study_overhead.py [PRESET]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import print_machine


def union_length(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for lo, hi in sorted(intervals):
        if hi <= end:
            continue
        total += hi - max(lo, end)
        end = hi
    return total


def main() -> None:
    print_machine()
    import mlflow

    preset = sys.argv[1] if len(sys.argv) > 1 else "smoke"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
        start = time.time()
        proc = subprocess.run(
            [sys.executable, "-m", "study.cli", "launch", preset, "--name", "bench"],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.time() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr[-3000:])
        info = json.loads((Path(tmp) / "studies" / "bench" / "study.json").read_text())
        client = mlflow.MlflowClient(info["tracking_uri"])
        parent = client.get_run(info["parent_run_id"])
        runs = client.search_runs(
            [info["experiment_id"]],
            filter_string=f"tags.`mlflow.parentRunId` = '{info['parent_run_id']}'",
        )
        data_seconds = parent.data.metrics["data_seconds"]
        trials = [
            tuple(float(t) for t in r.data.tags["scalefree.compute_interval"].split()) for r in runs
        ]
        baselines = parent.data.tags.get("scalefree.baselines_interval")
    computed = [tuple(float(t) for t in baselines.split())] if baselines else []
    busy_trials = union_length(trials + computed)
    serial = sum(hi - lo for lo, hi in trials)
    busy = data_seconds + busy_trials
    print(f"preset {preset}: {len(trials)} trials, wall {wall:.1f} s")
    print(
        f"  dataset generation {data_seconds:.1f} s; trial compute {serial:.1f} s summed, "
        f"{busy_trials:.1f} s covered with the baselines' task"
    )
    first, last = min(lo for lo, _ in trials), max(hi for _, hi in trials)
    print(f"  before the first trial computes: {first - start:.1f} s (dataset included)")
    print(f"  after the last trial computed: {start + wall - last:.1f} s (report included)")
    print(
        f"  outside compute: {wall - busy:.1f} s = {(wall - busy) / wall:.1%} of wall time (target <= 15 %)"
    )


if __name__ == "__main__":
    main()
