"""What a person sees from every command: quiet libraries and short lines.

**Quiet by default.** Ray's worker chatter ("Checkpoint successfully created …"), Tune's status
tables and its tracebacks of failed trials, MLflow's migration lines, Optuna's study lines and
library warnings stay out of the terminal. ``-v`` (``SCALEFREE_VERBOSE=1``) brings Ray's and
Tune's own output back. Every line a command prints is at most :data:`WIDTH` characters
(:func:`say`), never a carriage return where no terminal reads it.

The lowest layer of ``study``: it imports nothing of the project, so every other part may use it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import sys
import time
import warnings

__all__ = [
    "WIDTH",
    "verbose",
    "quiet",
    "say",
    "every",
    "clock",
    "captured",
    "guard_signals",
    "interrupted",
    "checkpoint",
]

WIDTH = 120  # the widest line printed
VERBOSE = "SCALEFREE_VERBOSE"
# Libraries whose warnings are theirs to fix, not the reader's (shown again with -v).
LIBRARIES = r"(ray|optuna|mlflow|torch|sklearn|powerlaw|pydantic|pyarrow|pandas|alembic)(\..*)?"


def verbose() -> bool:
    return os.environ.get(VERBOSE, "") not in ("", "0")


def quiet() -> None:
    """Silence what the libraries print unless the user asked for it (``-v``). Idempotent."""
    # "Creating initial MLflow database tables…": MLflow sets its loggers' level when imported,
    # from this variable; alembic's migrations log through their own logger.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:  # "A new study created in RDB with name: …"
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    except ImportError:
        pass
    if verbose():
        return
    warnings.filterwarnings("ignore", module=LIBRARIES)
    try:
        from optuna.exceptions import ExperimentalWarning

        warnings.filterwarnings("ignore", category=ExperimentalWarning)
    except ImportError:
        pass
    # Tune logs every failed trial's traceback at ERROR: the recorder's one line says it instead.
    os.environ.setdefault("TUNE_PRINT_ALL_TRIAL_ERRORS", "0")
    for name in ("ray", "ray.tune", "ray.train", "ray.data"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def clock(seconds: float) -> str:
    """``1:05`` or ``1:02:05``; ``?`` when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def every(seconds: float):
    """A progress callback that prints at most one line per ``seconds`` (the first one always)."""
    last = [-math.inf]

    def show(line: str) -> None:
        checkpoint()  # a progress line is a safe point: a recorded Ctrl-C acts here
        now = time.time()
        if now - last[0] >= seconds:
            last[0] = now
            say(line)

    return show


def say(line: str) -> None:
    """One line of progress, cut to :data:`WIDTH` characters."""
    print(line if len(line) <= WIDTH else line[: WIDTH - 1] + "…", flush=True)


@contextlib.contextmanager
def captured():
    """What is printed inside the block still reaches stdout, and is kept in the
    ``io.StringIO`` the block receives (the report keeps its own text this way)."""
    kept = io.StringIO()

    class _Tee(io.TextIOBase):
        def write(self, text: str) -> int:
            kept.write(text)
            return original.write(text)

        def flush(self) -> None:
            original.flush()

    original = sys.stdout
    sys.stdout = _Tee()
    try:
        yield kept
    finally:
        sys.stdout = original


# Ctrl-C and SIGTERM, never lost. Python raises KeyboardInterrupt wherever SIGINT lands, a garbage
# collector's callback or a __del__ included, where it is printed as "Exception ignored" and lost
# (seen: a study interrupted during its dataset then ran to the end and exited 0). So a command
# that runs a study takes both signals itself (:func:`guard_signals`): the first is recorded, and
# the command acts on it at its next safe point (:func:`checkpoint`), wherever it landed; the
# second still means stop now. Ray Tune installs its own SIGINT handler while an experiment runs
# (it stops the trials and saves its state) and the driver restores this one afterwards.
_SIGNALS = {"count": 0, "last": 0}


def _on_signal(signum, frame) -> None:
    import signal

    _SIGNALS["count"] += 1
    _SIGNALS["last"] = signum
    if _SIGNALS["count"] >= 3:
        os._exit(128 + signal.SIGINT)
    tune = signal.getsignal(signal.SIGINT)
    if signum == signal.SIGTERM and callable(tune) and tune is not _on_signal:
        tune(signal.SIGINT, frame)  # Tune's handler is in place: SIGTERM stops it as Ctrl-C does
        return
    if _SIGNALS["count"] == 2:  # the second: stop now
        raise KeyboardInterrupt


def guard_signals(*, again: bool = False) -> None:
    """Take SIGINT and SIGTERM in this (the main) thread: recorded, acted on at safe points.
    ``again``: only where they were taken before (``ray.init`` installs a SIGTERM handler of its
    own in the driver, which exits wherever the signal lands)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if again and signal.getsignal(signal.SIGINT) is not _on_signal:
        return
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def interrupted() -> bool:
    """Whether a Ctrl-C or SIGTERM came since :func:`guard_signals`."""
    return _SIGNALS["count"] > 0


def checkpoint() -> None:
    """A safe point: raise the KeyboardInterrupt a recorded signal asked for."""
    if interrupted():
        raise KeyboardInterrupt
