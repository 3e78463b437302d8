"""Connecting to Ray: a local instance by default, or a running cluster by address."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator

__all__ = ["connect", "check_address"]


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
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    kwargs = {"address": address} if address else {"num_cpus": num_cpus or os.cpu_count()}
    ray.init(include_dashboard=False, log_to_driver=True, configure_logging=False, **kwargs)
    try:
        yield
    finally:
        ray.shutdown()
