"""Differentiable true physics for the inverse net's 'physics' mode: displacements → sorted w.

The chain is the one of :mod:`physics.hamiltonian` (Eqs. 1, 2) written for autograd: positions →
K_ij = exp(−a·d_ij) (K = (H − εI)/t0 has H's eigenvectors) → eigenvectors ψ_m →
w_m = 1/(N Σ_s ψ_ms⁴) → sorted ascending (``torch.sort`` is differentiable: it permutes gradients).

The eigenvector gradient of ``eigh`` contains 1/(λi − λj), infinite at degeneracies (the undeformed
lattice is full of them). :class:`BroadenedEigh` replaces it by (λi − λj)/((λi − λj)² + ε²),
finite everywhere and within ε²/Δλ² of exact for well-separated levels. λ are eigenvalues of K,
so ε is in units of t0. K's mean level spacing is ~0.066 on 8×8 and ~0.019 on 16×16 lattices, but
the smallest gaps of realistic structures are ~1e-4–1e-5: with ε = 1e-6 those pairs dominate the
gradient (per-structure norms up to ~60× the median on 16×16; mini-batch gradients with cosine
~0.2 to the full-batch one), which makes training through this module unstable. Training uses
ε = 1e-2 (``InverseConfig.physics_broadening``): gradient spikes gone (max/median ~1.2–1.5),
mini-batch cosine ~0.96, and the full-batch direction still lowers the exact loss. The function
default stays near-exact for gradient checks.
"""

from __future__ import annotations

import torch

from physics.hamiltonian import areas_from_vectors
from physics.lattice import rest_positions

__all__ = ["BroadenedEigh", "broadened_eigh", "hopping", "sorted_mode_areas"]


class BroadenedEigh(torch.autograd.Function):
    """``torch.linalg.eigh`` of a symmetric matrix with a Lorentzian-broadened backward."""

    @staticmethod
    def forward(ctx, matrix: torch.Tensor, broadening: float) -> tuple[torch.Tensor, torch.Tensor]:
        lam, vec = torch.linalg.eigh(matrix)  # (..., N), (..., N, N) eigenvectors in columns
        ctx.save_for_backward(lam, vec)
        ctx.broadening = broadening
        return lam, vec

    @staticmethod
    def backward(ctx, grad_lam: torch.Tensor | None, grad_vec: torch.Tensor | None):
        lam, vec = ctx.saved_tensors
        inner = torch.zeros_like(vec)  # Vᵀ·gA·V, symmetric
        if grad_vec is not None:
            gap = lam.unsqueeze(-2) - lam.unsqueeze(-1)  # (..., N, N): λj − λi
            denominator = gap.square() + ctx.broadening**2
            denominator.diagonal(dim1=-2, dim2=-1).fill_(1.0)
            vtg = vec.mT @ grad_vec  # (..., N, N)
            inner = 0.5 * (vtg - vtg.mT) * gap / denominator  # skew part ∘ broadened 1/(λj − λi)
        if grad_lam is not None:
            inner.diagonal(dim1=-2, dim2=-1).copy_(grad_lam)
        return vec @ inner @ vec.mT, None


def broadened_eigh(matrix: torch.Tensor, broadening: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues ascending and eigenvectors of symmetric ``matrix``; see :class:`BroadenedEigh`."""
    if not broadening >= 0:
        raise ValueError(f"broadening must be >= 0, but got {broadening=}.")
    return BroadenedEigh.apply(matrix, broadening)


def hopping(displacements: torch.Tensor, a: float) -> torch.Tensor:
    """K (B, N, N) of displacement images (B, 2, L, L), differentiable also at zero distance."""
    batch, _, size, _ = displacements.shape
    rest = torch.as_tensor(rest_positions(size), dtype=displacements.dtype)
    pos = rest.to(displacements.device) + displacements.reshape(batch, 2, -1).mT  # (B, N, 2)
    diff = pos.unsqueeze(-2) - pos.unsqueeze(-3)  # (B, N, N, 2)
    eye = torch.eye(size * size, dtype=pos.dtype, device=pos.device)
    dist = (diff.square().sum(-1) + eye).sqrt()  # +1 on the diagonal keeps sqrt's gradient finite
    return torch.exp(-a * dist) * (1.0 - eye)  # (B, N, N)


def sorted_mode_areas(
    displacements: torch.Tensor, *, a: float, broadening: float = 1e-6
) -> torch.Tensor:
    """Sorted normalised mode areas (B, N) of displacement images (B, 2, L, L), with gradients.

    Use float64: near-degenerate modes need it (see :mod:`physics.hamiltonian`).
    """
    _, vec = broadened_eigh(hopping(displacements, a), broadening)  # (B, N, N)
    return torch.sort(areas_from_vectors(vec), dim=-1).values  # (B, N) ascending
