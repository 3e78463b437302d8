"""The Tune adapter: one trial as a Tune function trainable around ``trainables.run_trial``.

It adds what a trial needs inside a study: the Tune context and checkpoints, the trial's MLflow run
(found again on resume, never duplicated) and the final report that Optuna reads.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from pathlib import Path

from study import faults
from study.config import METRICS
from study.directory import StudyInfo
from study.leftovers import work_prefix

__all__ = ["tune_trial", "FINAL_KEYS"]

FINAL_KEYS = (*METRICS, "val_accuracy")  # what a replayed finished trial reports again
PHASES = ("forward", "inverse")


def _tags(cfg, study: StudyInfo) -> dict[str, str]:
    import ray

    from study.tracking import architecture_tags

    return {
        "ray.node_id": ray.get_runtime_context().get_node_id(),
        "ray.node_ip": ray.util.get_node_ip_address(),
        "scalefree.host": socket.gethostname(),
        "mlflow.source.git.commit": study.git_commit,
        "scalefree.git_commit": study.git_commit[:12],
        **architecture_tags(cfg),
    }


def _result(metrics: dict, final: bool) -> dict:
    """What Tune hears: plain values, ``final`` set, and never ``done`` (Tune's own stop flag:
    passing it on would stop the trial inside this report)."""
    result = {
        k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) and k != "done"
    }
    result["final"] = final
    return result


def tune_trial(params: dict, *, base_flat: dict, data: dict, study: StudyInfo) -> None:
    """Function trainable: ``params`` are Optuna's samples, the rest comes via ``with_parameters``."""
    from ray import tune
    from ray.tune import Checkpoint

    from study.search import apply_params
    from study.tracking import COLLAPSED_TAG, COMPUTE_TAG, VERDICT_TAG, Tracker, trial_name
    from trainables.config import from_flat, to_flat
    from trainables.trial import run_trial

    trial_id = tune.get_context().get_trial_id()
    cfg = from_flat(apply_params(base_flat, params))
    tracker = Tracker(study.tracking_uri)
    run_name = trial_name(cfg, trial_id)
    run_id, finished = tracker.trial_run(
        study.experiment_id,
        study.parent_run_id,
        study.name,
        trial_id,
        _tags(cfg, study),
        run_name=run_name,
    )
    link = {"mlflow_run_id": run_id, "mlflow_run_name": run_name}  # the searcher links Optuna to it
    if finished:
        # Completed before the driver died but after Tune's last snapshot: replay, don't rerun.
        metrics = tracker.metrics(run_id)
        tune.report({k: v for k, v in metrics.items() if k in FINAL_KEYS} | {"final": True} | link)
        return
    tracker.log_params(run_id, {**to_flat(cfg), **{f"search.{k}": v for k, v in params.items()}})

    work = Path(tempfile.mkdtemp(prefix=f"{work_prefix(study.name)}{trial_id}-"))
    checkpoint_dir, artifact_dir = work / "checkpoint", work / "artifacts"
    restored = tune.get_checkpoint()
    if restored is not None:
        restored.to_directory(str(checkpoint_dir))
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    # Per-epoch metrics use one step for both phases: the trial's epoch count so far (forward
    # epochs 1..F, then inverse F+1..). Steps already in MLflow (a trial restored from an older
    # checkpoint repeats them, with the same numbers since the checkpoint holds the RNG state)
    # are logged once.
    logged = tracker.last_step(run_id, tuple(f"{phase}_val_accuracy" for phase in PHASES))
    last = cfg.total_epochs()
    faults.point("trial_start")

    def report(row: dict) -> None:
        if int(row["step"]) > logged:
            named = {f"{row['phase']}_{k}": v for k, v in row.items() if k not in ("epoch", "step")}
            tracker.log_metrics(run_id, named, step=int(row["step"]))
        if any(checkpoint_dir.iterdir()):
            tune.report(
                _result(row, False), checkpoint=Checkpoint.from_directory(str(checkpoint_dir))
            )
        else:
            tune.report(_result(row, False))
        step = int(row["step"])
        faults.point("training" if step == 2 else "scoring" if step == last else "")

    started = time.time()
    try:
        result = run_trial(cfg, report, data=data, checkpoint_dir=checkpoint_dir)
        ended = time.time()
        final = dict(result.metrics)
        if "alpha" in final:
            final["alpha_error"] = abs(final["alpha"] - study.alpha_target)
        final["compute_seconds"] = ended - started
        # Close the MLflow run before Tune hears of the end: a driver killed in between then
        # finds a FINISHED run on resume and replays it, instead of leaving it RUNNING forever.
        # The compute interval is a tag (benchmarks/study_overhead.py), the duration a metric.
        result.save(artifact_dir)
        tracker.log_metrics(run_id, final)
        tags = {COMPUTE_TAG: f"{started:.3f} {ended:.3f}"}
        if final.get("collapsed_reason"):
            tags[COLLAPSED_TAG] = final["collapsed_reason"]
        if final.get("alpha_verdict"):
            tags[VERDICT_TAG] = final["alpha_verdict"]
        tracker.set_tags(run_id, tags)
        tracker.log_artifacts(run_id, artifact_dir)
        tracker.finish(run_id)
    except SystemExit:  # Tune stops a trial (scheduler, resume) by exiting its thread in report()
        if tracker.status(run_id) != "FINISHED":
            tracker.set_tags(run_id, {"stopped_early": "true"})
            tracker.finish(run_id, "KILLED")
        raise
    except BaseException as err:
        tracker.set_tags(run_id, {"failure_reason": f"{type(err).__name__}: {err}"})
        tracker.finish(run_id, "KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED")
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tune.report(_result(final, True) | link)
