"""The Ray edge of a trial: Tune context, checkpoints and MLflow around ``trainables.run_trial``."""

from __future__ import annotations

import math
import shutil
import socket
import tempfile
import time
from pathlib import Path

from trainables.score import CONTRACT_METRICS, EXTRA_METRICS

__all__ = ["tune_trial", "FINAL_KEYS"]

FINAL_KEYS = (*CONTRACT_METRICS, *EXTRA_METRICS, "alpha_error", "val_accuracy")


def _numeric(metrics: dict) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[key] = float(value)
    return out


def tune_trial(params: dict, *, base_flat: dict, data: dict, study: dict) -> None:
    """Function trainable: ``params`` are Optuna's samples, the rest comes via ``with_parameters``."""
    import mlflow
    import ray
    from ray import tune
    from ray.tune import Checkpoint

    from study.search import apply_params
    from study.tracking import (
        COLLAPSED_TAG,
        COMPUTE_TAG,
        architecture_tags,
        log_flat_params,
        trial_name,
        trial_run,
    )
    from trainables.config import from_flat, to_flat
    from trainables.trial import run_trial

    context = tune.get_context()
    trial_id = context.get_trial_id()
    flat = apply_params(base_flat, params)
    cfg = from_flat(flat)
    client = mlflow.MlflowClient(study["tracking_uri"])
    tags = {
        "ray.node_id": ray.get_runtime_context().get_node_id(),
        "ray.node_ip": ray.util.get_node_ip_address(),
        "scalefree.host": socket.gethostname(),
        "mlflow.source.git.commit": study["git_commit"],
        "scalefree.git_commit": study["git_commit"][:12],
        **architecture_tags(cfg),
    }
    run_name = trial_name(cfg, trial_id)
    run_id, finished = trial_run(
        study["tracking_uri"],
        study["experiment_id"],
        study["parent_run_id"],
        study["name"],
        trial_id,
        tags,
        run_name=run_name,
    )
    if finished:
        # Completed before the driver died but after Tune's last snapshot: replay, don't rerun.
        metrics = client.get_run(run_id).data.metrics
        link = {"mlflow_run_id": run_id, "mlflow_run_name": run_name}
        tune.report({k: v for k, v in metrics.items() if k in FINAL_KEYS} | {"final": True} | link)
        return
    log_flat_params(
        client, run_id, {**to_flat(cfg), **{f"search.{k}": v for k, v in params.items()}}
    )

    work = Path(tempfile.mkdtemp(prefix=f"scalefree-{trial_id}-"))
    checkpoint_dir, artifact_dir = work / "checkpoint", work / "artifacts"
    restored = tune.get_checkpoint()
    if restored is not None:
        restored.to_directory(str(checkpoint_dir))
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    artifact_dir.mkdir(parents=True, exist_ok=True)
    # Per-epoch metrics use one step for both phases: the trial's epoch count so far (forward
    # epochs 1..F, then inverse F+1..). Steps already in MLflow (a trial restored from an older
    # checkpoint repeats them, with the same numbers since the checkpoint holds the RNG state)
    # are logged once.
    logged = max(
        (
            m.step
            for phase in ("forward", "inverse")
            for m in client.get_metric_history(run_id, f"{phase}_val_accuracy")
        ),
        default=0,
    )

    def report(metrics: dict) -> None:
        final = bool(metrics.get("done"))
        phase = metrics.get("phase", "final")
        if final and "alpha" in metrics:
            metrics = {**metrics, "alpha_error": abs(metrics["alpha"] - study["alpha_target"])}
        numbers = _numeric(metrics)
        if final:
            # Close the MLflow run before Tune hears of the end: a driver killed in between then
            # finds a FINISHED run on resume and replays it, instead of leaving it RUNNING forever.
            # The compute interval is a tag (benchmarks/study_overhead.py), the duration a metric.
            ended = time.time()
            numbers["compute_seconds"] = ended - started
            client.log_batch(run_id, metrics=_mlflow_metrics(numbers, step=0))
            client.set_tag(run_id, COMPUTE_TAG, f"{started:.3f} {ended:.3f}")
            if metrics.get("collapsed_reason"):
                client.set_tag(run_id, COLLAPSED_TAG, str(metrics["collapsed_reason"])[:4000])
            client.log_artifacts(run_id, str(artifact_dir))
            client.set_terminated(run_id, "FINISHED")
        elif int(metrics["step"]) > logged:
            named = {f"{phase}_{k}": v for k, v in numbers.items() if k not in ("epoch", "step")}
            client.log_batch(run_id, metrics=_mlflow_metrics(named, step=int(metrics["step"])))
        # ``done`` is Tune's own stop flag: passing it on would stop the trial inside this report.
        result = {
            k: v
            for k, v in metrics.items()
            if isinstance(v, (int, float, str, bool)) and k != "done"
        }
        result["final"] = final
        if final:  # the searcher links the Optuna trial to this run (study/optuna_search.py)
            result |= {"mlflow_run_id": run_id, "mlflow_run_name": run_name}
        if not final and any(checkpoint_dir.iterdir()):
            tune.report(result, checkpoint=Checkpoint.from_directory(str(checkpoint_dir)))
        else:
            tune.report(result)

    started = time.time()
    try:
        run_trial(cfg, report, data=data, checkpoint_dir=checkpoint_dir, artifact_dir=artifact_dir)
    except SystemExit:  # Tune stops a trial (scheduler, resume) by exiting its thread in report()
        if client.get_run(run_id).info.status != "FINISHED":
            client.set_tag(run_id, "stopped_early", "true")
            client.set_terminated(run_id, "KILLED")
        raise
    except BaseException as err:
        reason = f"{type(err).__name__}: {err}"[:4000]
        client.set_tag(run_id, "failure_reason", reason)
        client.set_terminated(run_id, "KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED")
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _mlflow_metrics(values: dict[str, float], *, step: int):
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    return [Metric(key, value, now, step) for key, value in values.items()]
