"""Studies that outlive their terminal: the driver submitted as a Ray Job, owned here.

``scalefree launch|resume|confirm|ablate|reproduce … --detach`` checks its input on the client
(one line and exit 2, nothing submitted), then submits the same command, without ``--detach``,
as a Ray Job to the cluster's job server (Ray's dashboard, port 8265 of the head). The job runs it
on the head in its own process group, in the folder the command was given in (``--workdir``), so
its studies folder and tracking store are those of a foreground launch there; whatever happens to
the client, it runs on. A record of the job is kept in ``<studies>/.jobs/<name>.json`` on the
client, which ``status``, ``list``, ``logs`` and ``stop`` read.

Stopping: Ray's ``ray job stop`` sends ``RAY_JOB_STOP_SIGNAL`` (default SIGTERM) and SIGKILL
``RAY_JOB_STOP_WAIT_TIME_S`` (default 3 s) later. Tune's driver takes only SIGINT, and a Ctrl-C
gives running trials 20 s to stop and Tune seconds more to save its state, so every job is
submitted with SIGINT and a wait of :data:`STOP_WAIT_S`: ``scalefree stop`` is then exactly a
Ctrl-C in the driver's terminal, and ``resume`` continues the study.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

__all__ = [
    "JobRecord",
    "job_server",
    "submit",
    "record_of",
    "records",
    "job_state",
    "stop",
    "logs",
    "STOP_WAIT_S",
]

JOB_PORT = 8265  # Ray's dashboard and job server on the head
STOP_SIGNAL = "SIGINT"  # what Ctrl-C sends: Tune saves its state on it
STOP_WAIT_S = 180  # before SIGKILL: trials' 20 s grace, Tune's save, a busy cluster's slack
ENDED = ("SUCCEEDED", "FAILED", "STOPPED")


@dataclass(frozen=True)
class JobRecord:
    """What the client keeps of a submitted study (``<studies>/.jobs/<name>.json``)."""

    name: str  # the study (or reproduction folder) the job drives
    job_id: str
    server: str  # the job server's URL
    verb: str  # launch, resume, confirm, ablate, reproduce
    submitted: float  # Unix seconds
    workdir: str

    def save(self, studies: Path) -> Path:
        folder = Path(studies) / ".jobs"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)
        return path


def job_server(address: str | None) -> str:
    """The job server's URL for a cluster address (``--address``, else ``RAY_ADDRESS``), as
    ``ray job submit --address`` takes it: ``http(s)://HOST:PORT`` as it is; ``HOST:PORT`` (the
    cluster's GCS port, what a foreground command takes) → ``http://HOST:8265``, the job server's
    default port."""
    address = address or os.environ.get("RAY_ADDRESS", "")
    if not address or address in ("auto", "local"):
        raise ValueError(
            "--detach: must know the cluster (--address HEAD:6379, or RAY_ADDRESS), but got "
            f"{address or 'none'!r}."
        )
    if address.startswith(("http://", "https://")):
        return address.rstrip("/")
    if address.startswith("ray://"):
        address = address[len("ray://") :]
    host = address.rpartition(":")[0] or address
    return f"http://{host}:{JOB_PORT}"


def _client(server: str):
    from ray.job_submission import JobSubmissionClient

    from study.console import quiet, verbose

    quiet()
    if not verbose():  # the job SDK sets its own logger to INFO ("WebSocket closed for job …")
        logging.getLogger("ray.dashboard.modules.job.sdk").setLevel(logging.WARNING)

    try:
        return JobSubmissionClient(server)
    except Exception as err:  # noqa: BLE001 - connection, version and auth errors alike
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"--address: must reach the cluster's job server (Ray's dashboard, `ray start "
            f"--head` with ray[default]) and share its RAY_AUTH_TOKEN ({first[:120]}), but got "
            f"{server!r}."
        ) from None


def submit(
    argv: list[str],
    *,
    name: str,
    verb: str,
    address: str | None,
    studies: Path,
    workdir: str | None = None,
) -> JobRecord:
    """Submit ``scalefree ARGV`` (the command without ``--detach``) as a Ray Job that runs in
    ``workdir`` (default: here) on the head; record it and return the record."""
    server = job_server(address)
    client = _client(server)
    workdir = str(Path(workdir or os.getcwd()).resolve())
    command = [sys.executable, "-m", "study.cli", *argv]
    entrypoint = f"cd {shlex.quote(workdir)} && exec {shlex.join(command)}"
    env = {"RAY_JOB_STOP_SIGNAL": STOP_SIGNAL, "RAY_JOB_STOP_WAIT_TIME_S": str(STOP_WAIT_S)}
    for key in ("MLFLOW_TRACKING_URI", "SCALEFREE_VERBOSE"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    try:
        job_id = client.submit_job(
            entrypoint=entrypoint,
            submission_id=f"scalefree-{name}-{int(time.time())}",
            runtime_env={"env_vars": env},
            metadata={"scalefree.study": name, "scalefree.verb": verb},
        )
    except RuntimeError as err:  # the server's own answer: "No available agent …", a refusal
        from study.files.errors import JobRefused

        said = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise JobRefused(
            f"--detach: the job server at {server} did not take the study ({said[:160]}); "
            "nothing was submitted"
        ) from None
    record = JobRecord(name, job_id, server, verb, time.time(), workdir)
    record.save(studies)
    return record


def record_of(studies: Path, name: str) -> JobRecord | None:
    path = Path(studies) / ".jobs" / f"{name}.json"
    if not path.is_file():
        return None
    try:
        return JobRecord(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None


def records(studies: Path) -> list[JobRecord]:
    """Every job submitted from here, oldest first."""
    found = [record_of(studies, p.stem) for p in sorted((Path(studies) / ".jobs").glob("*.json"))]
    return sorted((r for r in found if r is not None), key=lambda r: r.submitted)


def job_state(record: JobRecord) -> str:
    """PENDING, RUNNING, SUCCEEDED, FAILED or STOPPED as the job server says, or ``unknown
    (why)`` when it cannot be asked (the cluster is down, the client is elsewhere)."""
    try:
        status = _client(record.server).get_job_status(record.job_id)
    except Exception as err:  # noqa: BLE001 - a status line must not fail the command
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return f"unknown ({reason[:80]})"
    return getattr(status, "value", str(status))


def stop(record: JobRecord, *, wait: bool = True, timeout: float = STOP_WAIT_S + 60) -> str:
    """Stop the job as a Ctrl-C stops a foreground driver; its final state."""
    client = _client(record.server)
    client.stop_job(record.job_id)
    state = job_state(record)
    deadline = time.time() + timeout
    while wait and state not in ENDED and time.time() < deadline:
        time.sleep(1.0)
        state = job_state(record)
    return state


def logs(record: JobRecord, *, follow: bool = False, out=None) -> None:
    """The job's output (the same lines a foreground command prints); with ``follow`` until the
    job ends."""
    out = out or sys.stdout
    client = _client(record.server)
    if not follow:
        out.write(client.get_job_logs(record.job_id))
        out.flush()
        return
    import asyncio

    async def tail() -> None:
        async for chunk in client.tail_job_logs(record.job_id):
            out.write(chunk)
            out.flush()

    asyncio.run(tail())


def host_of(server: str) -> str:
    return urlparse(server).hostname or server
