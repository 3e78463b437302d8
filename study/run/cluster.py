"""Connecting to Ray: a local instance by default, or a running cluster by address; and checking
that every node of a cluster sees the study's folder."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

__all__ = ["connect", "check_address", "check_shared"]


def check_address(address: str) -> None:
    """Fail fast, naming the address, when nothing listens there (``auto`` is left to Ray)."""
    if address in ("auto", "local") or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            f"--address: must be HOST:PORT, 'auto' or ray://HOST:PORT, but got {address!r}."
        )
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    except OSError as err:
        raise ValueError(
            f"--address: must name a reachable Ray cluster ({err.strerror or err}), but got {address!r}."
        ) from None


@contextlib.contextmanager
def connect(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[None]:
    """``ray.init`` for the duration of a command; shuts down only what it started."""
    import ray

    if ray.is_initialized():
        yield
        return
    if address:
        check_address(address)
    from study.console import guard_signals, quiet, verbose

    quiet()  # again: importing ray set its own loggers' levels back
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    kwargs = {"address": address} if address else {"num_cpus": num_cpus or os.cpu_count()}
    # Workers' output (Ray's checkpoint lines, library warnings, tracebacks) reaches the terminal
    # only with -v; what a person needs of it comes through the study's own lines.
    ray.init(include_dashboard=False, log_to_driver=verbose(), configure_logging=False, **kwargs)
    guard_signals(again=True)  # Ray's driver SIGTERM handler out, ours back
    if not verbose():
        _quiet_node_deaths()
    try:
        yield
    finally:
        ray.shutdown()


SAID_BY_US = ("has been marked dead because the detector",)  # study.run.nodes says it


def _quiet_node_deaths() -> None:
    """Ray prints the cluster's error messages in the driver whatever ``log_to_driver`` says (a
    thread of its own, ``(raylet)``-prefixed): the one a lost node makes is said by the study
    itself (:mod:`study.run.nodes`), in one line; every other still comes through."""
    import ray._private.worker as worker

    shown = worker.print_to_stdstream
    if getattr(shown, "scalefree", False):
        return

    def print_to_stdstream(data, ignore_prefix: bool = False):
        lines = [line for line in data.get("lines", []) if not any(s in line for s in SAID_BY_US)]
        if lines:
            shown({**data, "lines": lines}, ignore_prefix=ignore_prefix)

    print_to_stdstream.scalefree = True
    worker.print_to_stdstream = print_to_stdstream


PROBE_PREFIX = ".scalefree-probe-"  # the driver's marker file; removed when the probe ends
PROBE_TIMEOUT_S = 90  # a node's probe task may wait for a worker process to start


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _probe(marker: str, token: str) -> str:
    """On one node: '' when it reads the driver's ``marker`` (holding ``token``) and can create a
    file beside it, else what it cannot do."""
    import tempfile

    path = Path(marker)
    try:
        if path.read_text() != token:
            return "sees another folder at that path"
    except OSError:
        return "cannot see it"
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=PROBE_PREFIX):
            pass
    except OSError as err:
        return f"cannot write there ({err.strerror or err})"
    return ""


def check_shared(folder: Path, key: str) -> None:
    """Every alive node of the connected Ray cluster must see ``folder`` (or, before it exists,
    its nearest existing parent) at the same path, with the same files, and write there: trials
    keep their checkpoints and files in the study directory, wherever they run.

    The driver writes a marker with a random token, one task pinned to each node reads it and
    creates a file beside it, and the marker is removed whatever happens. A node that cannot is
    one error line naming the node, what to share and ``key``, the setting that moves it."""
    import secrets

    import ray
    from ray.exceptions import RayError
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    folder = Path(folder).resolve()
    target = _nearest_existing(folder)
    token = secrets.token_hex(16)
    marker = target / f"{PROBE_PREFIX}{token}"
    marker.write_text(token)
    try:
        probe = ray.remote(num_cpus=0, max_retries=0)(_probe)
        nodes = {}
        for node in ray.nodes():
            if node["Alive"]:
                pinned = NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
                ref = probe.options(scheduling_strategy=pinned).remote(str(marker), token)
                nodes[ref] = node["NodeManagerAddress"]
        ready, _ = ray.wait(list(nodes), num_returns=len(nodes), timeout=PROBE_TIMEOUT_S)
        for ref, ip in nodes.items():
            if ref not in ready:
                problem = f"did not answer within {PROBE_TIMEOUT_S} s"
            else:
                try:
                    problem = ray.get(ref)
                except RayError as err:  # e.g. the project is not installed there
                    cause = getattr(err, "cause", None) or err
                    problem = f"cannot run scalefree ({type(cause).__name__}: {str(cause)[:80]})"
            if problem:
                raise ValueError(
                    f"{key}: must be a folder every Ray node sees at the same path (node {ip} "
                    f"{problem}: mount it at the same path on every node, or set {key} to a "
                    f"folder they share), but got {str(folder)!r}."
                )
    finally:
        marker.unlink(missing_ok=True)
