"""The Tune adapter: one trial as a Tune function trainable around ``trainables.run_trial``.

It adds what a trial needs inside a study: the Tune context, a checkpoint per epoch and the final
report that Optuna reads. It never opens the tracking store: every number goes to the driver in
Tune's results, and the trial's files (``generated.npz``, the weights, the figures) in its last
checkpoint, under ``artifacts/``. The driver's :class:`study.recorder.TrialRecorder` writes both to
MLflow, so a trial on any host needs only Tune's storage (the study directory), not the driver's
disk or its SQLite file.

A trial that already finished is never computed again: the driver hands over the final metrics of
trials whose MLflow run is FINISHED (``finished``), and a last checkpoint that holds ``final.json``
(the final result, written before it was reported) is reported again from there.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from study import faults
from study.config import METRICS
from study.errors import TrialFailed
from study.leftovers import work_prefix

__all__ = ["tune_trial", "FINAL_KEYS", "FINAL_FILE", "ARTIFACTS", "NODE_KEY"]

FINAL_KEYS = (*METRICS, "val_accuracy")  # what a replayed finished trial reports again
FINAL_FILE = "final.json"  # in the last checkpoint: the final result as reported
ARTIFACTS = "artifacts"  # in the last checkpoint: the files the trial's MLflow run holds
NODE_KEY = "node_id"  # the Ray node a result came from (Tune adds node_ip and hostname itself)
PHASES = ("forward", "inverse")


def _result(metrics: dict, final: bool) -> dict:
    """What Tune hears: plain values, ``final`` set, and never ``done`` (Tune's own stop flag:
    passing it on would stop the trial inside this report)."""
    result = {
        k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) and k != "done"
    }
    result["final"] = final
    return result


def tune_trial(
    params: dict, *, base_flat: dict, data: dict, study: str, alpha_target: float, finished: dict
) -> None:
    """Function trainable: ``params`` are Optuna's samples, the rest comes via ``with_parameters``
    (``study``: the study's name; ``finished``: Tune trial id → final metrics of trials whose run
    already FINISHED)."""
    import ray
    from ray import tune
    from ray.tune import Checkpoint

    from study.search import apply_params
    from trainables.config import from_flat
    from trainables.trial import run_trial

    trial_id = tune.get_context().get_trial_id()
    node = {NODE_KEY: ray.get_runtime_context().get_node_id()}
    if trial_id in finished:
        # Completed before the driver died but after Tune's last snapshot: replay, don't rerun.
        tune.report(_result(finished[trial_id], True) | node)
        return
    cfg = from_flat(apply_params(base_flat, params))
    work = Path(tempfile.mkdtemp(prefix=f"{work_prefix(study)}{trial_id}-"))
    checkpoint_dir = work / "checkpoint"
    try:
        restored = tune.get_checkpoint()
        if restored is not None:
            restored.to_directory(str(checkpoint_dir))
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        if (checkpoint_dir / FINAL_FILE).is_file():  # finished; its result was lost with the driver
            final = json.loads((checkpoint_dir / FINAL_FILE).read_text())
            tune.report(final | node, checkpoint=Checkpoint.from_directory(str(checkpoint_dir)))
            return
        last = cfg.total_epochs()
        faults.point("trial_start")

        def report(row: dict) -> None:
            # Per-epoch rows use one step for both phases: the trial's epoch count so far (forward
            # epochs 1..F, then inverse F+1..); the driver logs each step once.
            saved = any(checkpoint_dir.iterdir())
            checkpoint = Checkpoint.from_directory(str(checkpoint_dir)) if saved else None
            tune.report(_result(row, False) | node, checkpoint=checkpoint)
            step = int(row["step"])
            faults.point("training" if step == 2 else "scoring" if step == last else "")

        started = time.time()
        try:
            result = run_trial(cfg, report, data=data, checkpoint_dir=checkpoint_dir)
        except Exception as err:  # the configuration's own failure (a NaN loss, …), not the host's
            raise TrialFailed(f"{type(err).__name__}: {err}") from err
        ended = time.time()
        final = dict(result.metrics)
        if "alpha" in final:
            final["alpha_error"] = abs(final["alpha"] - alpha_target)
        # The compute interval becomes a tag (benchmarks/study_overhead.py), the duration a metric.
        final |= {
            "compute_seconds": ended - started,
            "compute_start": started,
            "compute_end": ended,
        }
        result.save(checkpoint_dir / ARTIFACTS)
        # final.json goes into the same checkpoint as the artifacts: a trial restored from it after
        # a crash reports it again instead of training again.
        final = _result(final, True) | node
        (checkpoint_dir / FINAL_FILE).write_text(json.dumps(final))
        tune.report(final, checkpoint=Checkpoint.from_directory(str(checkpoint_dir)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
