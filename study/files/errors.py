"""Errors the CLI maps to exit codes, importable without loading torch, Ray or MLflow."""

from __future__ import annotations

__all__ = [
    "StudyFailed",
    "TrialFailed",
    "DiskFull",
    "TrackingGone",
    "JobRefused",
    "disk_full",
    "disk_full_line",
]


class StudyFailed(RuntimeError):
    """The study ran but produced nothing to report (every trial failed), or trials failed for a
    reason outside their configuration (a host that cannot reach something): not a result."""


class TrackingGone(RuntimeError):
    """The tracking server stayed away longer than the driver rides out: the study stopped with
    its Tune state and checkpoints saved, and ``resume`` completes its runs once it is back."""


class JobRefused(RuntimeError):
    """The cluster's job server answered but would not take a detached study (its job agent is
    not up, it refused the submission): nothing was submitted and nothing recorded."""


class DiskFull(RuntimeError):
    """The studies folder ran out of space: the study stopped with nothing half-written, and
    ``resume`` finishes it once there is room (:func:`disk_full_line` says so in one line)."""


class TrialFailed(RuntimeError):
    """A trial's own computation raised (it diverged, its architecture cannot run): a result about
    that configuration. Anything else that ends a trial (storage, a lost node) is the cluster's."""


# What a full disk says, wherever it is met: the OS (errno 28), SQLite, pyarrow's filesystem.
DISK_FULL = ("No space left on device", "database or disk is full", "Errno 28")


def disk_full(error: BaseException | str | None) -> bool:
    """Whether ``error`` (an exception, its causes and contexts, or an error text) is a full disk."""
    import errno

    seen = set()
    while isinstance(error, BaseException) and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if any(words in str(error) for words in DISK_FULL):
            return True
        error = error.__cause__ or error.__context__ or getattr(error, "cause", None)
    return isinstance(error, str) and any(words in error for words in DISK_FULL)


def disk_full_line(folder, name: str = "") -> str:
    """The one line a study that ran out of room stops with: the folder, what it holds of the
    study, what is free there, and what to do."""
    import shutil
    from pathlib import Path

    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    used = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    disk = shutil.disk_usage(folder)
    again = f"`scalefree resume {name}`" if name else "the same command"
    return (
        f"tracking.studies_dir: must have room for the study's checkpoints and files (its "
        f"folder holds {used / 2**20:.1f} MiB, and {disk.free / 2**20:.1f} MiB of "
        f"{disk.total / 2**20:.0f} MiB are free there; free some, then {again}), but got "
        f"'{folder}' full."
    )
