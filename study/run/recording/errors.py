"""What ended a failed trial: its kind (the trial's own computation, or the cluster), its reason
in one line, and its whole error text, kept in the study directory."""

from __future__ import annotations

from pathlib import Path

from study.files.errors import TrialFailed

__all__ = ["failure", "error_file", "trial_error", "traceback_text"]


def failure(error: BaseException | str | None) -> tuple[str, str]:
    """(kind, reason) of the error that ended a trial: ``trial`` when its own computation raised
    (:class:`~study.files.errors.TrialFailed`), else ``infrastructure``. ``error`` is the exception Tune
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


def traceback_text(error: BaseException | None) -> str:
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
