"""The symmetric eigensolver of the paths that need no gradient: data generation, validation of
designs, attacks. ``torch.linalg.eigh`` stays where gradients or a GPU are involved.

Measured, not assumed: on CPU the fastest LAPACK differs between machines (on this project's AMD
CPUs numpy's OpenBLAS ``eigh`` takes 6.7–6.9 ms per 256×256 matrix on one thread, torch's MKL
build 8.0–9.8 ms; on an Intel Xeon MKL's 4.5–5.6 ms beat OpenBLAS's 5.8–7.0 ms). :func:`eigh`
therefore times both (a few 10 ms) and keeps the faster; ``SCALEFREE_EIGH=numpy|torch`` forces
one (``auto``, the default, measures). benchmarks/datagen.py prints the two side by side.

The choice is made once per machine, matrix size and thread count, and remembered in
``$XDG_CACHE_HOME/scalefree/eigh.json`` (default ``~/.cache``) under a file lock, keyed by the CPU
and both libraries' versions. Two LAPACKs agree to ~1e-12 but not bit for bit, so a choice made
anew in every process by a timing under load let two processes of one machine pick differently:
Ray workers and a local run then wrote datasets with different bytes (seen under load). Where the
cache cannot be written the choice is made per process, as before.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

__all__ = ["eigh", "backend_for", "cache_file", "BACKENDS"]

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


def _measure(size: int) -> str:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, size, size))
    sample = torch.from_numpy(a + a.transpose(0, 2, 1))
    numpy_s, torch_s = _timed((_numpy_eigh, torch.linalg.eigh), sample)
    return "numpy" if numpy_s < torch_s else "torch"


def _machine() -> str:
    """What a remembered choice holds for: the CPU and both libraries' builds."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return f"{model} | numpy {np.__version__} | torch {torch.__version__}"


def cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "scalefree" / "eigh.json"


def _remembered(size: int, threads: int) -> str:
    """The machine's choice for (size, threads), measured once under an exclusive lock by the
    first process that needs it and read by every later one."""
    path, entry = cache_file(), f"{size}x{threads}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                stored = json.loads(path.read_text()) if path.is_file() else {}
            except ValueError:
                stored = {}
            mine = stored.setdefault(_machine(), {})
            if entry not in mine:
                mine[entry] = _measure(size)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(stored, indent=1))
                os.replace(tmp, path)
            return mine[entry]
    except OSError:  # no writable cache: this process decides alone
        return _measure(size)


def backend_for(size: int) -> str:
    """The backend :func:`eigh` uses on CPU for ``size``×``size`` float64 matrices."""
    forced = os.environ.get("SCALEFREE_EIGH", "auto")
    if forced in BACKENDS:
        return forced
    key = (size, torch.get_num_threads())
    if key not in _CHOICE:
        _CHOICE[key] = _remembered(*key)
    return _CHOICE[key]


def eigh(matrices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues ascending (..., N) and eigenvectors in columns (..., N, N) of symmetric float64
    ``matrices``: the faster CPU library without gradients, else ``torch.linalg.eigh``."""
    if matrices.device.type != "cpu" or matrices.requires_grad:
        return torch.linalg.eigh(matrices)
    if backend_for(matrices.shape[-1]) == "numpy":
        return _numpy_eigh(matrices)
    return torch.linalg.eigh(matrices)
