"""The driver's record of every trial in MLflow (:class:`TrialRecorder`, a Ray Tune callback)."""

from study.run.recording.errors import error_file, failure, trial_error
from study.run.recording.recorder import TrialRecorder

__all__ = ["TrialRecorder", "error_file", "failure", "trial_error"]
