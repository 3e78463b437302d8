"""Single-atom attacks (paper Fig. 6): move one atom by ρa in a random direction, recompute w.

All N attacked copies of a structure differ from the intact one in a single row and column of K, so
they are built from one intact K by overwriting that row and column and diagonalised as one batch.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from physics.device import resolve_device
from physics.eigh import eigh
from physics.hamiltonian import (
    DEFAULT_A,
    DEFAULT_ONSITE,
    DEFAULT_T0,
    _check_physics,
    areas_from_vectors,
    hopping_matrix,
)
from physics.lattice import check_displacements, positions

__all__ = ["attack_angles", "attacked_mode_areas"]


def attack_angles(n: int, n_atoms: int, *, seed: int | np.random.SeedSequence) -> np.ndarray:
    """One direction u_i(0, 2π) per atom and structure, (n, N)."""
    return np.random.default_rng(seed).uniform(0.0, 2.0 * np.pi, (n, n_atoms))


def _attacked_hopping(pos: torch.Tensor, shifted: torch.Tensor, a: float) -> torch.Tensor:
    """K of the N attacked copies (N, N, N) from intact positions (N, 2) and moved atoms (N, 2)."""
    n_atoms = pos.shape[0]
    intact = hopping_matrix(pos[None], a)[0]  # (N, N)
    rows = torch.exp(-a * torch.linalg.vector_norm(shifted[:, None, :] - pos[None], dim=-1))
    idx = torch.arange(n_atoms, device=pos.device)
    rows[idx, idx] = 0.0  # (copy i, atom j): new hopping of the moved atom i to atom j
    k = intact.expand(n_atoms, n_atoms, n_atoms).clone()  # (copy, N, N)
    k[idx, idx, :] = rows
    k[idx, :, idx] = rows
    return k


def attacked_mode_areas(
    displacements: np.ndarray,
    *,
    strength: float,
    seed: int | np.random.SeedSequence,
    a: float = DEFAULT_A,
    t0: float = DEFAULT_T0,
    onsite: float = DEFAULT_ONSITE,
    device: str | torch.device | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted w of the intact structures (n, N) and of every single-atom attack (n, N_attacked, N).

    Float64 only: Δw of a small attack is below float32's error on near-degenerate modes.
    """
    disp = check_displacements(displacements)
    _check_physics(a, t0, onsite)
    if (
        not (isinstance(strength, (int, float, np.floating)) and math.isfinite(strength))
        or strength < 0
    ):
        raise ValueError(f"strength must be a finite number >= 0, but got strength={strength!r}.")
    dev = resolve_device(device)
    pos_all = positions(disp)  # (n, N, 2)
    n, n_atoms, _ = pos_all.shape
    theta = attack_angles(n, n_atoms, seed=seed)
    step = strength * np.stack([np.cos(theta), np.sin(theta)], axis=-1)  # (n, N, 2)
    intact_w = np.empty((n, n_atoms))
    attacked_w = np.empty((n, n_atoms, n_atoms))
    for b in range(n):
        pos = torch.as_tensor(pos_all[b], dtype=torch.float64, device=dev)
        shifted = pos + torch.as_tensor(step[b], dtype=torch.float64, device=dev)
        k = torch.cat([hopping_matrix(pos[None], a), _attacked_hopping(pos, shifted, a)])
        _, vec = eigh(k)  # (1 + N, N, N): intact first
        w = torch.sort(areas_from_vectors(vec, overwrite=True), dim=-1).values.cpu().numpy()
        intact_w[b], attacked_w[b] = w[0], w[1:]
    return intact_w, attacked_w
