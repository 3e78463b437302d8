"""The driver's record of every trial in MLflow: a Ray Tune callback, the only writer of trial runs.

Trials run on any host of the cluster and never open the tracking store (:mod:`study.tune_trial`).
They report through Tune, and Tune calls this callback in the driver with each result and each
checkpoint. So one process writes the study's SQLite file (no lock, no port open to the network,
nothing for a second host to reach but Tune's storage), trial actors start without importing
MLflow, and a resume finds the runs where the driver left them:

* a trial's run is created when Tune first starts the trial and found again (by its
  ``scalefree.trial_id`` tag under the study's parent run) when Tune restarts or resumes it;
* per-epoch metrics are logged at their step, each step once (steps already in the run are skipped,
  since a trial restored from an older checkpoint reports them again with the same numbers);
* the final metrics come with the final result, and the trial's files with its last checkpoint
  (``artifacts/``); the run is FINISHED once both are in;
* a run whose trial failed says why (``failure_reason``) and whether the failure was the trial's own
  (``scalefree.failure_kind`` = ``trial``) or the cluster's (``infrastructure``: a host that cannot
  reach the storage, a lost node).

Ray's own ``MLflowLoggerCallback`` is the pattern, not the tool: it opens a new run for every
resumed trial and keeps no state (see the design notes).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ray.tune import Callback
from ray.tune.result import AUTO_RESULT_KEYS

from study.ablation import ABLATES_TAG, ABLATION_TAG, LEVEL_TAG
from study.directory import StudyInfo
from study.errors import TrialFailed
from study.tracking import (
    COLLAPSED_TAG,
    COMPUTE_TAG,
    CONFIRMS_TAG,
    FAILURE_KIND_TAG,
    VERDICT_TAG,
    Tracker,
    architecture_tags,
    redact,
    trial_name,
    unredact,
)
from study.tune_trial import ARTIFACTS, DEVICE_KEY, NODE_KEY, PHASES, configuration
from trainables.seeds import seed_prefix

__all__ = ["TrialRecorder", "failure", "trial_error", "error_file"]

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


@dataclasses.dataclass
class _Run:
    """What the recorder knows of one trial's run while the trial is live."""

    run_id: str
    name: str  # the run's name (what Optuna links to)
    logged: dict[str, int]  # seed prefix → highest per-epoch step in the run (read when first met)
    finished: bool  # FINISHED in MLflow: nothing more is written
    has_final: bool  # its final metrics are in
    placed: bool = False  # node tags set since the last (re)start
    host: str = ""  # where it last ran, for failure lines


def failure(error: BaseException | str | None) -> tuple[str, str]:
    """(kind, reason) of the error that ended a trial: ``trial`` when its own computation raised
    (:class:`~study.errors.TrialFailed`), else ``infrastructure``. ``error`` is the exception Tune
    kept, or the text of its error file when the exception could not be read back."""
    if error is None:
        return "infrastructure", "the trial's actor ended without an error report"
    if isinstance(error, str):
        lines = [line.strip() for line in error.splitlines() if line.strip()]
        own = [line for line in lines if line.startswith(f"{TrialFailed.__module__}.TrialFailed")]
        if own:
            return "trial", own[-1].partition(": ")[2]
        return "infrastructure", (lines[-1] if lines else "no error text")[:500]
    cause = getattr(error, "cause", None) or error  # Ray wraps the trial's exception
    if isinstance(cause, TrialFailed):
        return "trial", str(cause)
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return "infrastructure", f"{type(cause).__name__}: {lines[-1] if lines else ''}"[:500]


def error_file(directory, trial_id: str) -> Path:
    """Where a failed trial's whole error text is kept: ``<study>/errors/<trial>.txt``."""
    return Path(directory) / "errors" / f"{trial_id}.txt"


def _traceback(error: BaseException | None) -> str:
    import traceback

    if error is None:
        return "no error was reported\n"
    return "".join(traceback.format_exception(type(error), error, error.__traceback__)) or str(
        error
    )


def trial_error(trial) -> BaseException | str | None:
    """The exception that ended ``trial`` as Tune stored it, else its error file's text."""
    try:
        error = trial.get_pickled_error()
    except Exception:  # noqa: BLE001 - an exception class this process cannot unpickle
        error = None
    if error is None and trial.error_file and Path(trial.error_file).is_file():
        error = Path(trial.error_file).read_text()
    return error


class TrialRecorder(Callback):
    """Writes every trial of a study to MLflow from the driver (see the module docstring).

    Tune pickles its callbacks with the experiment (``tuner.pkl``) and restores them on resume: only
    the study's ids and the trial base config are kept, the tracking URI with its password redacted
    (:func:`study.tracking.unredact` finds it again in ``MLFLOW_TRACKING_URI``).
    """

    def __init__(self, info: StudyInfo, base_flat: dict, tracker: Tracker | None = None) -> None:
        self.info = dataclasses.replace(info, tracking_uri=redact(info.tracking_uri))
        self.base_flat = dict(base_flat)
        self._tracker = tracker
        self._runs: dict[str, _Run] = {}

    def __getstate__(self) -> dict:
        return {"info": self.info, "base_flat": self.base_flat}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["info"], state["base_flat"])

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            self._tracker = Tracker(unredact(self.info.tracking_uri))
        return self._tracker

    def _config(self, trial):
        from study.search import apply_params
        from trainables.config import from_flat

        return from_flat(apply_params(self.base_flat, configuration(trial.config)))

    # Tune's hooks

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        from trainables.config import to_flat

        cfg = self._config(trial)
        tags = {
            "mlflow.source.git.commit": self.info.git_commit,
            "scalefree.git_commit": self.info.git_commit[:12],
            **architecture_tags(cfg),
        }
        fixed = configuration(trial.config)
        if fixed.get("confirms"):  # a confirmation round's run (study.confirm)
            tags[CONFIRMS_TAG] = fixed["confirms"]
        if fixed.get("ablation"):  # an ablation's level (study.ablation)
            tags |= {
                ABLATION_TAG: fixed["ablation"],
                LEVEL_TAG: fixed["level"],
                ABLATES_TAG: fixed["ablates"],
            }
        name = self._name(trial, cfg)
        parent = self.info.parent_run_id
        if fixed.get("confirms"):  # under the trial it confirms: the UI shows them together
            confirmed = self.tracker.trial_run_id(
                self.info.experiment_id, self.info.name, fixed["confirms"]
            )
            parent = confirmed or parent
        run_id, finished = self.tracker.trial_run(
            self.info.experiment_id,
            parent,
            self.info.name,
            trial.trial_id,
            tags,
            run_name=name,
        )
        metrics = {} if finished else self.tracker.metrics(run_id)
        self._runs[trial.trial_id] = _Run(
            run_id,
            name,
            logged={},
            finished=finished,
            has_final=finished or "validated_accuracy" in metrics,
        )
        if not finished:
            searched = {f"search.{k}": v for k, v in configuration(trial.config).items()}
            self.tracker.log_params(run_id, {**to_flat(cfg), **searched})

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

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        run = self._runs.pop(trial.trial_id, None)
        if run is None or run.finished:
            return
        if run.has_final and trial.checkpoint is not None:  # its checkpoint came without a hook
            self._runs[trial.trial_id] = run
            self.on_checkpoint(iteration, trials, trial, trial.checkpoint)
            self._runs.pop(trial.trial_id)
            if run.finished:
                return
        # Ended by Tune before its final report (an ASHA stop).
        self.tracker.set_tags(run.run_id, {"stopped_early": "true"})
        self.tracker.finish(run.run_id, "KILLED")

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        run = self._runs.pop(trial.trial_id, None)
        if run is None or run.finished:
            return
        error = trial_error(trial)
        kind, reason = failure(error)
        if run.host and kind == "infrastructure":
            reason = f"on {run.host}: {reason}"
        self.tracker.set_tags(run.run_id, {"failure_reason": reason, FAILURE_KIND_TAG: kind})
        # The whole error text: in the study directory (the terminal names the file) and in MLflow.
        path = error_file(self.info.dir, trial.trial_id)
        path.parent.mkdir(exist_ok=True)
        path.write_text(error if isinstance(error, str) else _traceback(error))
        self.tracker.log_artifact(run.run_id, path)
        self.tracker.finish(run.run_id, "FAILED")

    def on_trial_recover(self, iteration, trials, trial, **info) -> None:
        run = self._runs.get(trial.trial_id)
        if run is not None:
            run.placed = False  # it restarts, maybe elsewhere

    # helpers

    @staticmethod
    def _name(trial, cfg) -> str:
        fixed = configuration(trial.config)
        name = trial_name(cfg, trial.trial_id)
        if fixed.get("ablation"):
            return f"{fixed['ablation']}-{fixed['level']}-{name}"
        confirms = fixed.get("confirms")
        return f"confirm-{confirms}-{name}" if confirms else name

    def _run(self, trial) -> _Run:
        run = self._runs.get(trial.trial_id)
        if run is None:  # a result before any start hook (not seen; kept safe)
            self.on_trial_start(0, [], trial)
            run = self._runs[trial.trial_id]
        return run

    def _place(self, run: _Run, result: dict) -> None:
        if run.placed:
            return
        ip, host = result.get("node_ip", ""), result.get("hostname", "")
        tags = {"ray.node_id": result.get(NODE_KEY, ""), "ray.node_ip": ip, "scalefree.host": host}
        if result.get(DEVICE_KEY):
            tags["scalefree.device"] = result[DEVICE_KEY]
        self.tracker.set_tags(run.run_id, tags)
        run.placed, run.host = True, f"node {ip} ({host})" if ip else host
