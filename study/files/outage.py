"""A tracking server that goes away: how long the driver waits for it, and what an outage looks
like from the client's side. A study rides out :func:`outage_seconds` of outage (246 s with the
driver's settings); longer, and it stops in one line with its Tune state and checkpoints saved,
and ``resume`` completes its runs once the server is back (docs/faults.md)."""

from __future__ import annotations

import os
import time

__all__ = ["OUTAGE_RETRIES", "OUTAGE_BACKOFF", "outage_seconds", "unreachable", "Patient"]

# How long the driver rides out a tracking server that went away: MLflow retries each request
# with exponential backoff (urllib3: backoff_factor·2^(k−1) s before retry k, at most 120 s each),
# 7 retries with factor 2: 2 + 4 + 8 + 16 + 32 + 64 + 120 = 246 s, and the request itself. Set
# by the driver unless the environment sets them (tests shorten them).
OUTAGE_RETRIES, OUTAGE_BACKOFF = 7, 2


def outage_seconds(retries: int = OUTAGE_RETRIES, backoff: int = OUTAGE_BACKOFF) -> float:
    """Seconds of backoff before MLflow gives a request up."""
    return float(sum(min(backoff * 2 ** (k - 1), 120) for k in range(1, retries + 1)))


GONE_TYPES = (
    "ConnectionError",
    "MaxRetryError",
    "NewConnectionError",
    "ConnectTimeout",
    "ChunkedEncodingError",
    "ProtocolError",
    "RemoteDisconnected",
)
GONE_WORDS = (
    "Max retries exceeded",
    "Connection refused",
    "Connection broken",
    "Connection aborted",
)


def unreachable(error: BaseException | None) -> bool:
    """Whether ``error`` (or its causes and contexts) is the tracking server gone away: its
    retries exhausted, the connection refused or cut."""
    seen = set()
    while isinstance(error, BaseException) and id(error) not in seen:
        seen.add(id(error))
        name, text = type(error).__name__, str(error)
        if name in GONE_TYPES or any(words in text for words in GONE_WORDS):
            return True
        error = error.__cause__ or error.__context__ or getattr(error, "cause", None)
    return False


class Patient:
    """An ``MlflowClient`` whose calls wait out a tracking server that went away.

    MLflow retries a refused connection itself (:func:`outage_seconds`), but not a response cut
    off mid-way by a server that died while answering (a ``ChunkedEncodingError``): those calls
    are retried here, with the same backoff, until the same number of seconds has passed since
    the first failure. Either way the driver rides out :func:`outage_seconds` of outage, and then
    the error goes on to the driver, which stops the study in one line."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            budget = outage_seconds(
                int(os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES", OUTAGE_RETRIES)),
                int(os.environ.get("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", OUTAGE_BACKOFF)),
            )
            first, wait = None, 1.0
            while True:
                try:
                    return attribute(*args, **kwargs)
                except Exception as err:  # noqa: BLE001 - only an outage is retried
                    now = time.monotonic()
                    first = now if first is None else first
                    if not unreachable(err) or now - first >= budget:
                        raise
                    time.sleep(min(wait, max(budget - (now - first), 0.0)))
                    wait = min(wait * 2, 30.0)

        return call
