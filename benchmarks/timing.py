"""Shared by the benchmark scripts (run as ``python benchmarks/NAME.py``, so importable by name)."""

from __future__ import annotations

import time


def best_of(fn, repeats: int = 3) -> float:
    """The shortest of ``repeats`` wall times of ``fn()`` in seconds (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
