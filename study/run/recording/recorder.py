"""The driver's record of every trial in MLflow: a Ray Tune callback, the only writer of trial runs.

Its hooks live where a reader looks for them: :mod:`.opening` (a trial's run created or found
again), :mod:`.results` (per-epoch and final metrics, the files) and :mod:`.closing` (finished,
stopped or failed, with :mod:`.errors` saying why).

Trials run on any host of the cluster and never open the tracking store (:mod:`study.run.trainable`).
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

from ray.tune import Callback

from study.files.directory import StudyInfo
from study.files.tracking import Tracker, redact, unredact
from study.run.recording.closing import ClosingRuns
from study.run.recording.opening import OpeningRuns, Run
from study.run.recording.results import LoggingResults

__all__ = ["TrialRecorder"]


class TrialRecorder(OpeningRuns, LoggingResults, ClosingRuns, Callback):
    """Writes every trial of a study to MLflow from the driver (see the module docstring).

    Tune pickles its callbacks with the experiment (``tuner.pkl``) and restores them on resume: only
    the study's ids and the trial base config are kept, the tracking URI with its password redacted
    (:func:`study.files.tracking.unredact` finds it again in ``MLFLOW_TRACKING_URI``).
    """

    def __init__(self, info: StudyInfo, base_flat: dict, tracker: Tracker | None = None) -> None:
        self.info = dataclasses.replace(info, tracking_uri=redact(info.tracking_uri))
        self.base_flat = dict(base_flat)
        self._tracker = tracker
        self._runs: dict[str, Run] = {}

    def __getstate__(self) -> dict:
        return {"info": self.info, "base_flat": self.base_flat}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["info"], state["base_flat"])

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            self._tracker = Tracker(unredact(self.info.tracking_uri))
        return self._tracker
