"""Logging what a trial reports: per-epoch metrics at their step, each step once (a trial restored
from an older checkpoint reports steps again), the final metrics with their tags, and the trial's
files from its last checkpoint, after which the run is FINISHED."""

from __future__ import annotations

from pathlib import Path

from ray.tune.result import AUTO_RESULT_KEYS

from study.files.tracking import COLLAPSED_TAG, COMPUTE_TAG, VERDICT_TAG
from study.run.trainable import ARTIFACTS, DEVICE_KEY, NODE_KEY, PHASES
from trainables.seeds import seed_prefix

__all__ = ["LoggingResults", "NOT_METRICS"]

# Result keys that are bookkeeping, not metrics: Tune's own, the step/epoch counters, the routing
# flags, the compute interval (a tag), the node and the device (tags).
NOT_METRICS = frozenset(
    {
        *AUTO_RESULT_KEYS,
        *("step", "epoch", "final", "done", "compute_start", "compute_end"),
        *(NODE_KEY, DEVICE_KEY),
    }
)
ROW_KEYS = (
    "seed",
    "seed_index",
    "n_seeds",
)  # which seed a per-epoch row belongs to (final: n_seeds is a metric)
EPOCH_KEYS = tuple(f"{phase}_val_accuracy" for phase in PHASES)  # for the last logged step


class LoggingResults:
    """The :class:`study.run.recording.TrialRecorder` hooks that log results and files."""

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        run = self._run(trial)
        # The Optuna trial links to its run (the searcher reads the trial's last result).
        result["mlflow_run_id"] = run.run_id
        result["mlflow_run_name"] = run.name
        if run.finished:  # a replayed trial: its run is complete
            return
        self._place(run, result)
        values = {k: v for k, v in result.items() if k not in NOT_METRICS}
        if not result.get("final"):
            step = int(result["step"])
            prefix = seed_prefix(int(result.get("seed", 0)), int(result.get("n_seeds", 1)))
            if prefix not in run.logged:
                keys = tuple(prefix + key for key in EPOCH_KEYS)
                run.logged[prefix] = self.tracker.last_step(run.run_id, keys)
            if step > run.logged[prefix]:
                phase = values.pop("phase")
                for key in ROW_KEYS:
                    values.pop(key, None)
                named = {f"{prefix}{phase}_{k}": v for k, v in values.items()}
                self.tracker.log_metrics(run.run_id, named, step=step)
                run.logged[prefix] = step
            return
        if not run.has_final:
            self.tracker.log_metrics(run.run_id, values)
            tags = {COMPUTE_TAG: f"{result['compute_start']:.3f} {result['compute_end']:.3f}"}
            if result.get("collapsed_reason"):
                tags[COLLAPSED_TAG] = result["collapsed_reason"]
            if result.get("alpha_verdict"):
                tags[VERDICT_TAG] = result["alpha_verdict"]
            self.tracker.set_tags(run.run_id, tags)
            run.has_final = True

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info) -> None:
        run = self._runs.get(trial.trial_id)
        if run is None or run.finished or not run.has_final:
            return
        with checkpoint.as_directory() as folder:  # the storage path itself when it is local
            artifacts = Path(folder) / ARTIFACTS
            if not artifacts.is_dir():
                return
            self.tracker.log_artifacts(run.run_id, artifacts)
        self.tracker.finish(run.run_id)
        run.finished = True
