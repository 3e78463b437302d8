"""Closing a trial's run: FINISHED with its files (:mod:`.results`), KILLED when Tune stopped it
before its final report, FAILED with the reason and the whole error text when it raised or its
node was lost."""

from __future__ import annotations

from study.files.tracking import FAILURE_KIND_TAG
from study.run.recording.errors import error_file, failure, traceback_text, trial_error

__all__ = ["ClosingRuns"]


class ClosingRuns:
    """The :class:`study.run.recording.TrialRecorder` hooks that close runs."""

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
        # A full disk is itself a reason trials fail: then the tag alone says it.
        path = error_file(self.info.dir, trial.trial_id)
        try:
            path.parent.mkdir(exist_ok=True)
            path.write_text(error if isinstance(error, str) else traceback_text(error))
        except OSError:
            path.unlink(missing_ok=True)
        else:
            self.tracker.log_artifact(run.run_id, path)
        self.tracker.finish(run.run_id, "FAILED")
