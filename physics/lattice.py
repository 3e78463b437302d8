"""Deformed square lattices (paper Eq. 5).

Conventions used throughout the project:

* A structure is an image of displacements ``(2, L, L)``: channel 0 is Δx, channel 1 is Δy, in units
  of the lattice period. Pixel ``[c, ny, nx]`` belongs to the atom at rest position ``(nx, ny)``.
* Atoms are numbered ``s = ny * L + nx`` (row-major), which is also the order of the ``N = L²``
  entries of every per-atom array (mode-area vectors excepted: those are sorted).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["sample_displacements", "rest_positions", "positions", "check_displacements"]


def _check_amplitude(name: str, value: float) -> None:
    if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, but got {name}={value!r}.")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, but got {name}={value!r}.")


def sample_displacements(
    n: int,
    *,
    seed: int | np.random.SeedSequence | np.random.Generator,
    size: int = 16,
    rho_max: float = 0.6,
    sigma_max: float = 0.6,
) -> np.ndarray:
    """Draw ``n`` realisations of Eq. 5, float64 array ``(n, 2, size, size)``.

    Per realisation ρ = ρmax·u(0,1) and σ = σmax·u(0,1); per atom one angle θ_i ~ u(0, 2π) shared by
    both components: Δx_i = ρ cos θ_i + u(−σ, σ), Δy_i = ρ sin θ_i + u(−σ, σ).
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n must be a positive integer, but got n={n!r}.")
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 2:
        raise ValueError(f"size must be an integer >= 2, but got size={size!r}.")
    _check_amplitude("rho_max", rho_max)
    _check_amplitude("sigma_max", sigma_max)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    rho = rho_max * rng.random((n, 1, 1))  # (n, 1, 1)
    sigma = sigma_max * rng.random((n, 1, 1))
    theta = rng.uniform(0.0, 2.0 * np.pi, (n, size, size))  # (n, L, L)
    jitter = rng.uniform(-1.0, 1.0, (n, 2, size, size)) * sigma[:, None]  # (n, 2, L, L)
    collective = np.stack([rho * np.cos(theta), rho * np.sin(theta)], axis=1)
    return collective + jitter


def check_displacements(displacements: object, *, name: str = "displacements") -> np.ndarray:
    """Return ``displacements`` as a float64 ``(n, 2, L, L)`` array or raise ``ValueError``."""
    arr = np.asarray(displacements)
    if arr.ndim != 4 or arr.shape[1] != 2 or arr.shape[2] != arr.shape[3] or arr.shape[2] < 2:
        raise ValueError(
            f"{name} must have shape (n, 2, L, L) with L >= 2, but got shape={arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one structure, but got shape={arr.shape}.")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be numeric, but got dtype={arr.dtype}.")
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ValueError(f"{name} must be finite, but got {bad} NaN/inf values.")
    return arr.astype(np.float64, copy=False)


def rest_positions(size: int) -> np.ndarray:
    """Undeformed lattice, ``(N, 2)`` float64 with atom ``s = ny*L + nx`` at ``(nx, ny)``."""
    ny, nx = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return np.stack([nx.ravel(), ny.ravel()], axis=-1).astype(np.float64)


def positions(displacements: np.ndarray) -> np.ndarray:
    """Deformed atom positions ``(n, N, 2)`` from displacement images ``(n, 2, L, L)``."""
    n, _, size, _ = displacements.shape
    shift = displacements.reshape(n, 2, size * size).transpose(0, 2, 1)  # (n, N, 2)
    return rest_positions(size)[None] + shift
