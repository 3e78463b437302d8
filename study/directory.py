"""The study directory ``studies/NAME/``: finding a study by name or path and reading its
``study.json`` (tracking URI, experiment and parent run ids, git commit, dataset key).

Its own module so that launch, report and the UI read a study without importing each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

__all__ = ["read_study", "study_dir_of", "driver_lock", "LOCK_FILE"]

LOCK_FILE = "driver.lock"


def study_dir_of(name_or_dir: str, studies_dir: str = "studies") -> Path:
    path = Path(name_or_dir)
    if (path / "study.json").is_file():
        return path.resolve()
    candidate = Path(studies_dir) / name_or_dir
    if (candidate / "study.json").is_file():
        return candidate.resolve()
    raise ValueError(
        f"study: must name a study directory or a study under {studies_dir}/, but got {name_or_dir!r}."
    )


def read_study(name_or_dir: str) -> dict:
    directory = study_dir_of(name_or_dir)
    info = json.loads((directory / "study.json").read_text())
    info["dir"] = str(directory)
    return info


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
