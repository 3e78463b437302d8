"""Deformed square lattices (paper Eq. 5).

Conventions used throughout the project:

* A structure is an image of displacements ``(2, L, L)``: channel 0 is Δx, channel 1 is Δy, in units
  of the lattice period. Pixel ``[c, ny, nx]`` belongs to the atom at rest position ``(nx, ny)``.
* Atoms are numbered ``s = ny * L + nx`` (row-major), which is also the order of the ``N = L²``
  entries of every per-atom array (mode-area vectors excepted: those are sorted).
"""

from __future__ import annotations

import numpy as np

from physics.checks import check_int, is_finite

__all__ = [
    "deform",
    "sample_structures",
    "sample_displacements",
    "rest_positions",
    "positions",
    "check_displacements",
]


def _check_amplitude(name: str, value: float) -> None:
    if not is_finite(value):
        raise ValueError(f"{name} must be a finite number, but got {name}={value!r}.")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, but got {name}={value!r}.")


def _check_count(n: object) -> None:
    check_int("n", n, 1)


def _check_size(size: object) -> None:
    check_int("size", size, 2)


def _rng(seed: int | np.random.SeedSequence | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def deform(
    rho: np.ndarray,
    sigma: np.ndarray,
    *,
    seed: int | np.random.SeedSequence | np.random.Generator,
    size: int = 16,
) -> np.ndarray:
    """Eq. 5 at given disorder strengths: one realisation per (ρ, σ) pair, ``(n, 2, size, size)``.

    Per atom one angle θ_i ~ u(0, 2π) shared by both components: Δx_i = ρ cos θ_i + u(−σ, σ),
    Δy_i = ρ sin θ_i + u(−σ, σ). ``rho`` and ``sigma`` are (n,) arrays in lattice units.
    """
    rho, sigma = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (rho, sigma))
    if rho.shape != sigma.shape or rho.size == 0:
        raise ValueError(
            f"rho and sigma must be non-empty (n,) arrays of one length, but got "
            f"shapes {rho.shape} and {sigma.shape}."
        )
    if not (np.isfinite(rho).all() and np.isfinite(sigma).all() and (sigma >= 0).all()):
        raise ValueError("rho and sigma must be finite and sigma >= 0, but got other values.")
    _check_size(size)
    rng, n = _rng(seed), rho.size
    theta = rng.uniform(0.0, 2.0 * np.pi, (n, size, size))  # (n, L, L)
    jitter = rng.uniform(-1.0, 1.0, (n, 2, size, size)) * sigma[:, None, None, None]
    r = rho[:, None, None]  # (n, 1, 1)
    collective = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)  # (n, 2, L, L)
    return collective + jitter


def sample_structures(
    n: int,
    *,
    seed: int | np.random.SeedSequence | np.random.Generator,
    size: int = 16,
    rho_max: float = 0.6,
    sigma_max: float = 0.6,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` realisations of Eq. 5 and their disorder: (displacements (n, 2, L, L), disorder (n, 2)).

    Per realisation ρ = ρmax·u(0,1) and σ = σmax·u(0,1) (``disorder[:, 0]`` and ``[:, 1]``), then
    :func:`deform`. The random stream is that of :func:`sample_displacements`: same seed, same bytes.
    """
    _check_count(n)
    _check_size(size)
    _check_amplitude("rho_max", rho_max)
    _check_amplitude("sigma_max", sigma_max)
    rng = _rng(seed)
    rho = rho_max * rng.random(n)  # (n,)
    sigma = sigma_max * rng.random(n)
    return deform(rho, sigma, seed=rng, size=size), np.stack([rho, sigma], axis=-1)


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
    disp, _ = sample_structures(n, seed=seed, size=size, rho_max=rho_max, sigma_max=sigma_max)
    return disp


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
