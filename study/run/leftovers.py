"""What a killed driver leaves behind, found again and removed by the next driver of the study.

``ray.shutdown()`` stops a local Ray instance and ``tune_trial`` removes its work folder, but a
driver killed with SIGKILL runs neither: Ray's agents (``ray::DashboardAgent``,
``ray::RuntimeEnvAgent``) live on with parent PID 1, and trial work folders stay in the temporary
directory. The driver therefore records, in the study directory, the processes of the Ray instance
it started (PID and start time, so a reused PID is never touched) and its session folder; the next
``launch``/``resume`` of the study (which holds the study's lock, so the recorder is dead) stops
those processes and removes the folders. Linux ``/proc`` only; elsewhere nothing is recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

__all__ = ["RECORD", "work_prefix", "record_ray", "clean"]

RECORD = "ray_processes.json"


def work_prefix(study: str) -> str:
    """Prefix of a trial's work folder in the temporary directory (one glob finds a study's)."""
    return f"scalefree-{study}-"


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: start time in clock ticks since boot


def _running(pid: int, started: str) -> bool:
    """The process still runs (a zombie has stopped; its parent may never reap it)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == started and fields[0] != "Z"


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def record_ray(directory: Path, session_dir: str | None) -> None:
    """Record this driver's descendant processes and Ray's session folder in ``directory``."""
    if not Path("/proc").is_dir():
        return
    processes = [(pid, _start_time(pid)) for pid in _descendants(os.getpid())]
    record = {"session_dir": session_dir, "processes": [p for p in processes if p[1]]}
    tmp = directory / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(record))
    os.replace(tmp, directory / RECORD)


def _session_processes(session: str) -> list[tuple[int, str]]:
    """Every live process whose command line names the Ray session folder (Ray passes it to the
    workers and agents it starts, also those started after the driver recorded its own)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if session.encode() in (entry / "cmdline").read_bytes():
                pid = int(entry.name)
                if pid != os.getpid() and (started := _start_time(pid)):
                    found.append((pid, started))
        except (OSError, ValueError):
            continue
    return found


def _stop(processes: list[tuple[int, str]]) -> list[int]:
    """SIGKILL each (pid, start time) that is still that process; wait until they are gone:
    SIGKILL is delivered asynchronously, and a dying Ray process can still write into the session
    folder after it was removed (seen in the interrupt tests)."""
    killed = []
    for pid, started in processes:
        if _start_time(pid) == started:  # the same process, not a reused PID
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, started))
            except OSError:
                pass
    deadline = time.monotonic() + 10
    while any(_running(p, s) for p, s in killed) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid, _ in killed]


def _remove(folder: str) -> None:
    """rmtree, again while something still re-creates entries (up to a few seconds)."""
    deadline = time.monotonic() + 5
    while Path(folder).exists() and time.monotonic() < deadline:
        shutil.rmtree(folder, ignore_errors=True)
        if Path(folder).exists():
            time.sleep(0.2)


def clean(directory: Path, study: str) -> list[str]:
    """Stop the recorded processes of a dead driver and every other process of its Ray session,
    remove the session folder and the study's trial work folders; returns what was removed (for
    one log line)."""
    removed = []
    path = directory / RECORD
    if path.is_file():
        try:
            record = json.loads(path.read_text())
        except ValueError:
            record = {}
        session = record.get("session_dir")
        processes = [tuple(p) for p in record.get("processes", [])]
        if session:
            processes += _session_processes(session)
        removed += [f"process {pid}" for pid in _stop(list(dict.fromkeys(processes)))]
        if session and Path(session).is_dir():
            _remove(session)
            removed.append(session)
        path.unlink(missing_ok=True)
    for folder in Path(tempfile.gettempdir()).glob(f"{work_prefix(study)}*"):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(str(folder))
    return removed
