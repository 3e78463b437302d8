"""Shared by the benchmark scripts (run as ``python benchmarks/NAME.py``, so importable by name)."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), which every benchmark prints beside its figures:
    the fastest LAPACK and the ratios depend on it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def print_machine() -> None:
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores", flush=True)


def best_of(fn, repeats: int = 3) -> float:
    """The shortest of ``repeats`` wall times of ``fn()`` in seconds (the least disturbed run)."""
    return best_of_interleaved([fn], repeats)[0]


def best_of_interleaved(fns, rounds: int = 5) -> list[float]:
    """The shortest wall time of each of ``fns`` over ``rounds`` rounds, each round timing every
    function once in turn: a load that comes and goes then falls on all of them alike, which
    timing one function's repeats and then the next one's does not ensure."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _burn(stop) -> None:
    import numpy as np
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((256, 256))
    with threadpool_limits(limits=1, user_api="blas"):
        while not stop.is_set():  # BLAS on one core, like a data-generation worker
            a = np.tanh(a @ a.T / 256)


@contextlib.contextmanager
def busy_cores(count: int):
    """``count`` processes doing single-threaded BLAS work while the block runs (none for 0)."""
    if count <= 0:
        yield
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = [ctx.Process(target=_burn, args=(stop,), daemon=True) for _ in range(count)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let them reach their loop
    try:
        yield
    finally:
        stop.set()
        for p in procs:
            p.join(5)
