"""The symmetric eigensolver of the paths that need no gradient: data generation, validation of
designs, attacks. ``torch.linalg.eigh`` stays where gradients or a GPU are involved.

Measured, not assumed: on CPU the fastest LAPACK differs between machines (on this project's AMD
CPUs numpy's OpenBLAS ``eigh`` takes 6.7–6.9 ms per 256×256 matrix on one thread, torch's MKL
build 8.0–9.8 ms; on Intel CPUs MKL usually wins). :func:`eigh` therefore times both once per
matrix size in each process (a few 10 ms) and keeps the faster; ``SCALEFREE_EIGH=numpy|torch``
forces one (``auto``, the default, measures). benchmarks/datagen.py prints the two side by side.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

__all__ = ["eigh", "backend_for", "BACKENDS"]

BACKENDS = ("numpy", "torch")
_CHOICE: dict[tuple[int, int], str] = {}  # (matrix size, torch threads) → backend


def _numpy_eigh(matrices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # numpy's BLAS gets torch's thread count: both libraries then use the cores the caller gave
    # (one per Ray worker), and an idle OpenBLAS pool does not fight torch's for the same cores
    with threadpool_limits(limits=torch.get_num_threads(), user_api="blas"):
        lam, vec = np.linalg.eigh(matrices.numpy())
    return torch.from_numpy(lam), torch.from_numpy(vec)


def _timed(fns, matrices: torch.Tensor, rounds: int = 3) -> list[float]:
    """Best wall time of each of ``fns`` on ``matrices``, timed in turn round after round: a load
    that comes and goes (a shared machine, the other Ray workers) falls on all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn(matrices)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def backend_for(size: int) -> str:
    """The backend :func:`eigh` uses on CPU for ``size``×``size`` float64 matrices."""
    forced = os.environ.get("SCALEFREE_EIGH", "auto")
    if forced in BACKENDS:
        return forced
    key = (size, torch.get_num_threads())
    if key not in _CHOICE:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((4, size, size))
        sample = torch.from_numpy(a + a.transpose(0, 2, 1))
        numpy_s, torch_s = _timed((_numpy_eigh, torch.linalg.eigh), sample)
        _CHOICE[key] = "numpy" if numpy_s < torch_s else "torch"
    return _CHOICE[key]


def eigh(matrices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues ascending (..., N) and eigenvectors in columns (..., N, N) of symmetric float64
    ``matrices``: the faster CPU library without gradients, else ``torch.linalg.eigh``."""
    if matrices.device.type != "cpu" or matrices.requires_grad:
        return torch.linalg.eigh(matrices)
    if backend_for(matrices.shape[-1]) == "numpy":
        return _numpy_eigh(matrices)
    return torch.linalg.eigh(matrices)
