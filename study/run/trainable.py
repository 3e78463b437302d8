"""The Tune adapter: one trial as a Tune function trainable around ``trainables.run_trial``.

It adds what a trial needs inside a study: the Tune context, a checkpoint per epoch and the final
report that Optuna reads. It never opens the tracking store: every number goes to the driver in
Tune's results, and the trial's files (``generated.npz``, the weights, the figures) in its last
checkpoint, under ``artifacts/``. The driver's :class:`study.run.recording.TrialRecorder` writes both to
MLflow, so a trial on any host needs only Tune's storage (the study directory), not the driver's
disk or its SQLite file.

A trial that already finished is never computed again: the driver hands over the final metrics of
trials whose MLflow run is FINISHED (``finished``), and a last checkpoint that holds ``final.json``
(the final result, written before it was reported) is reported again from there.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

from study.files.config import METRICS
from study.files.errors import TrialFailed
from study.run import faults
from study.run.leftovers import work_prefix

__all__ = [
    "tune_trial",
    "configuration",
    "FINAL_KEYS",
    "FINAL_FILE",
    "ARTIFACTS",
    "NODE_KEY",
    "DEVICE_KEY",
]

FINAL_KEYS = (*METRICS, "val_accuracy")  # what a replayed finished trial reports again
FINAL_FILE = "final.json"  # in the last checkpoint: the final result as reported
ARTIFACTS = "artifacts"  # in the last checkpoint: the files the trial's MLflow run holds
NODE_KEY = "node_id"  # the Ray node a result came from (Tune adds node_ip and hostname itself)
DEVICE_KEY = "device"  # the torch device the trial computed on ("cpu", "cuda:0", ...)
PHASES = ("forward", "inverse")
CONFIRM_KEY = "confirm"  # a confirmation trial's parameter set (see :func:`configuration`)


def _result(metrics: dict, final: bool) -> dict:
    """What Tune hears: plain values, ``final`` set, and never ``done`` (Tune's own stop flag:
    passing it on would stop the trial inside this report)."""
    result = {
        k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) and k != "done"
    }
    result["final"] = final
    return result


def tune_trial(
    params: dict,
    *,
    base_flat: dict,
    data: dict,
    study: str,
    alpha_target: float,
    seeds: tuple[int, ...],
    baselines,
    finished: dict,
) -> None:
    """Function trainable: ``params`` are Optuna's samples (or a confirmation's fixed
    configuration, whose ``seeds`` replace the study's); the rest comes via ``with_parameters``
    (``study``: the study's name; ``seeds``: the trial seeds of every configuration;
    ``baselines``: the dataset's baselines, computed once per study (a dict, or the ObjectRef of
    the task computing them, read when the trial scores); ``finished``: Tune trial id →
    final metrics of trials whose run already FINISHED).

    The seeds run one after the other, each a whole :func:`trainables.run_trial` with its own
    checkpoint folder ``seed-<s>/``; a seed that finished keeps its ``final.json`` there, so a
    restored trial goes on with the next seed. Every per-epoch row carries ``seed`` and
    ``n_seeds``; the final result is :func:`trainables.seeds.combine` of the seeds' metrics.
    """
    import ray
    from ray import tune
    from ray.tune import Checkpoint

    from physics.device import resolve_device
    from study.run.search import apply_params
    from trainables.config import from_flat
    from trainables.seeds import combine, seed_prefix
    from trainables.trial import run_trial

    trial_id = tune.get_context().get_trial_id()
    node = {NODE_KEY: ray.get_runtime_context().get_node_id()}
    if trial_id in finished:
        # Completed before the driver died but after Tune's last snapshot: replay, don't rerun.
        tune.report(_result(finished[trial_id], True) | node)
        return
    params = configuration(params)
    cfg = from_flat(apply_params(base_flat, params))
    node[DEVICE_KEY] = str(resolve_device(cfg.device))
    seeds = tuple(int(s) for s in params.get("seeds", seeds))
    work = Path(tempfile.mkdtemp(prefix=f"{work_prefix(study)}{trial_id}-"))
    checkpoint_dir = work / "checkpoint"

    def checkpoint() -> Checkpoint | None:
        saved = any(checkpoint_dir.rglob("*"))
        return Checkpoint.from_directory(str(checkpoint_dir)) if saved else None

    try:
        restored = tune.get_checkpoint()
        if restored is not None:
            restored.to_directory(str(checkpoint_dir))
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        if (checkpoint_dir / FINAL_FILE).is_file():  # finished; its result was lost with the driver
            final = json.loads((checkpoint_dir / FINAL_FILE).read_text())
            tune.report(final | node, checkpoint=checkpoint())
            return
        last = cfg.total_epochs()
        faults.point("trial_start")
        per_seed = {}
        for seed in seeds:
            folder = checkpoint_dir / f"seed-{seed}"
            if (folder / FINAL_FILE).is_file():  # done before the trial was restored
                per_seed[seed] = json.loads((folder / FINAL_FILE).read_text())
                continue
            folder.mkdir(exist_ok=True)

            def report(row: dict, seed: int = seed) -> None:
                # Per-epoch rows use one step for both phases: the seed's epoch count so far
                # (forward epochs 1..F, then inverse F+1..); the driver logs each step once.
                row = row | {"seed": seed, "seed_index": seeds.index(seed), "n_seeds": len(seeds)}
                tune.report(_result(row, False) | node, checkpoint=checkpoint())
                step = int(row["step"])
                faults.point("training" if step == 2 else "scoring" if step == last else "")

            started = time.time()
            try:
                trial_cfg = dataclasses.replace(cfg, seed=seed)
                known = baselines if isinstance(baselines, dict) else lambda: ray.get(baselines)
                result = run_trial(
                    trial_cfg, report, data=data, checkpoint_dir=folder, baselines=known
                )
            except Exception as err:  # the configuration's own failure (a NaN loss, …)
                raise TrialFailed(f"{type(err).__name__}: {err}") from err
            result.save(checkpoint_dir / ARTIFACTS / seed_prefix(seed, len(seeds)))
            ended = time.time()
            final = dict(result.metrics)
            if "alpha" in final:
                final["alpha_error"] = abs(final["alpha"] - alpha_target)
            # The compute interval (run_trial and the files and figures it leaves) becomes a tag
            # (benchmarks/study_overhead.py), its length a metric.
            final |= {"compute_seconds": ended - started, "compute_start": started}
            final["compute_end"] = ended
            # The seed is done: its training state gives way to its final metrics, which go
            # into the same checkpoints as its files, so a restored trial skips it.
            for state in folder.glob("*.ckpt"):
                state.unlink()
            (folder / FINAL_FILE).write_text(json.dumps(_result(final, True)))
            per_seed[seed] = final
        final = _result(combine(per_seed), True) | node
        # final.json goes into the same checkpoint as the artifacts: a trial restored from it
        # after a crash reports it again instead of training again.
        (checkpoint_dir / FINAL_FILE).write_text(json.dumps(final))
        tune.report(final, checkpoint=checkpoint())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def configuration(params: dict) -> dict:
    """The trial's parameters: Optuna's samples as they are, or a confirmation's fixed
    configuration (Tune's grid over whole parameter sets nests it under ``confirm``)."""
    return dict(params.get(CONFIRM_KEY, params))
