"""The study directory ``studies/NAME/``: finding a study by name or path, its ``study.json`` as a
typed :class:`StudyInfo` (tracking URI, experiment and parent run ids, git commit, dataset key,
launched config) and the one-driver lock.

Its own module so that launch, report and the UI read a study without importing each other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["StudyInfo", "read_study", "study_dir_of", "driver_lock", "LOCK_FILE", "INFO_FILE"]

LOCK_FILE = "driver.lock"
INFO_FILE = "study.json"


@dataclass(frozen=True)
class StudyInfo:
    """What a study's drivers and trials need to find each other; ``study.json`` on disk."""

    name: str
    tracking_uri: str  # MLflow store of the study's runs
    experiment_id: str
    parent_run_id: str
    git_commit: str = "unknown"  # the code that launched the study
    data_key: str = ""  # content hash of the dataset (physics.DatasetSpec.key)
    alpha_target: float = 3.79  # target of the alpha_error objective
    config: dict[str, str] | None = None  # launched config, key → repr (resume's change check)
    preset: str = ""  # what the study was launched from: a preset's name or a YAML path
    dir: Path = field(default=Path("."), compare=False)  # the study directory, not stored

    def save(self) -> None:
        """Write ``study.json`` atomically (a kill never leaves half a file)."""
        from study.files.tracking import redact

        stored = {k: v for k, v in dataclasses.asdict(self).items() if k != "dir"}
        stored["tracking_uri"] = redact(self.tracking_uri)
        tmp = self.dir / f".{INFO_FILE}.tmp"
        tmp.write_text(json.dumps(stored, indent=2))
        os.replace(tmp, self.dir / INFO_FILE)

    @classmethod
    def load(cls, directory: Path) -> StudyInfo:
        """Read ``directory/study.json``; one error line if it is unreadable or incomplete."""
        path = Path(directory) / INFO_FILE
        names = {f.name for f in dataclasses.fields(cls)} - {"dir"}
        try:
            stored = json.loads(path.read_text())
            if not isinstance(stored, dict):
                raise ValueError("not a JSON object")
            return cls(**{k: v for k, v in stored.items() if k in names}, dir=Path(directory))
        except (OSError, ValueError, TypeError) as err:
            reason = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
            raise ValueError(
                f"study: must have a readable {INFO_FILE} with the study's tracking ids "
                f"({reason}), but got {str(path)!r}."
            ) from None


def study_dir_of(name_or_dir: str, studies_dir: str = "studies") -> Path:
    path = Path(name_or_dir)
    if (path / INFO_FILE).is_file():
        return path.resolve()
    candidate = Path(studies_dir) / name_or_dir
    if (candidate / INFO_FILE).is_file():
        return candidate.resolve()
    raise ValueError(
        f"study: must name a study directory or a study under {studies_dir}/, but got {name_or_dir!r}."
    )


def read_study(name_or_dir: str) -> StudyInfo:
    """The study's :class:`StudyInfo`, with the real tracking URI (:func:`study.files.tracking.unredact`
    when the stored one had its password removed)."""
    from study.files.tracking import unredact

    info = StudyInfo.load(study_dir_of(name_or_dir))
    return dataclasses.replace(info, tracking_uri=unredact(info.tracking_uri))


@contextlib.contextmanager
def driver_lock(directory: Path) -> Iterator[None]:
    """Hold the study's one-driver lock while the block runs; refuse if another driver holds it.

    An exclusive ``flock`` on ``directory/driver.lock``: the kernel releases it when its holder
    exits, however it exits (kill -9 included), so a lock left by a dead driver is never in the
    way and needs no stale-lock heuristics. The file says who holds it, for the error message.
    """
    path = Path(directory) / LOCK_FILE
    handle = open(path, "a+")  # noqa: SIM115 - held open for the whole block
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another driver"
        handle.close()
        raise ValueError(
            f"study: must not already be running ({holder} drives it; wait or stop it first), "
            f"but got {Path(directory).name!r}."
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
