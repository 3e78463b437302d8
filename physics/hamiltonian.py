"""Tight-binding Hamiltonian with all orders of hopping and its mode areas (paper Eqs. 1, 2).

H_ii = ε and H_ij = t0·exp(−a·d_ij) for every pair i ≠ j, with d_ij the distance between deformed
positions (open boundary). The normalised mode area of eigenvector ψ_m is
w_m = 1 / (N Σ_s ψ_ms⁴) ∈ [1/N, 1] (Eq. 2).

We diagonalise K = (H − εI)/t0 instead of H: the eigenvectors are identical, E = ε + t0·λ, and the
spectrum of K is O(1) wide instead of O(t0) on top of an offset ε, which keeps near-degenerate modes
resolvable (measured: 30× smaller mode-area error in float32).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from physics.checks import is_finite
from physics.constants import DEFAULT_A, DEFAULT_ONSITE, DEFAULT_T0
from physics.device import resolve_device
from physics.eigh import eigh
from physics.lattice import check_displacements, positions, rest_positions

__all__ = [
    "DEFAULT_A",
    "DEFAULT_T0",
    "DEFAULT_ONSITE",
    "hopping_matrix",
    "BONDS",
    "bond_hoppings",
    "hamiltonian",
    "areas_from_vectors",
    "eigensystem",
    "mode_areas",
    "spectrum",
    "BroadenedEigh",
    "broadened_eigh",
    "torch_positions",
    "differentiable_mode_areas",
]

_CHUNK = 64  # structures per eigh call: bounds memory, keeps LAPACK batched


def _check_physics(a: float, t0: float, onsite: float) -> None:
    for name, value in (("a", a), ("t0", t0), ("onsite", onsite)):
        if not is_finite(value):
            raise ValueError(f"{name} must be a finite number, but got {name}={value!r}.")
    if a <= 0:
        raise ValueError(f"a must be > 0 (hopping decays with distance), but got a={a!r}.")
    if t0 == 0:
        raise ValueError(f"t0 must be non-zero, but got t0={t0!r}.")


def hopping_matrix(pos: torch.Tensor, a: float) -> torch.Tensor:
    """K_ij = exp(−a·|r_i − r_j|) for i ≠ j, K_ii = 0; ``pos`` (B, N, 2) → (B, N, N).

    Differentiable when ``pos`` requires grad (cdist's backward is finite at the zero diagonal);
    otherwise computed in place.
    """
    if pos.requires_grad:
        return _Hopping.apply(pos, a)
    return _hopping(pos, a)[0]


def _hopping(pos: torch.Tensor, a: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(K, distances), both (B, N, N), computed without autograd and in place."""
    # cdist without the |x|²+|y|²−2x·y shortcut: exact for the short distances that matter most,
    # and 4× faster here than broadcasting the (B, N, N, 2) differences.
    with torch.no_grad():
        d = torch.cdist(pos, pos, compute_mode="donot_use_mm_for_euclid_dist")  # (B, N, N)
        k = d.mul(-a).exp_()
        k.diagonal(dim1=-2, dim2=-1).zero_()
    return k, d


class _Hopping(torch.autograd.Function):
    """K of :func:`hopping_matrix` with its gradient in closed form: for upstream G = ∂L/∂K,
    ∂L/∂r_i = Σ_j C_ij (r_i − r_j) with C = −a·K/d ∘ (G + Gᵀ), C_ii = 0, i.e. r·ΣC − C·r: one
    (N, N)·(N, 2) product instead of cdist's backward through every pair difference. Measured on
    the physics step (benchmarks/physics_inverse.py): forward and backward 2.6 → 1.1 ms per
    16×16 structure on one Intel Xeon thread."""

    @staticmethod
    def forward(ctx, pos: torch.Tensor, a: float) -> torch.Tensor:
        k, d = _hopping(pos, a)
        ctx.save_for_backward(pos, k, d)
        ctx.a = a
        return k

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        pos, k, d = ctx.saved_tensors
        d = d.clone()
        d.diagonal(dim1=-2, dim2=-1).fill_(1.0)  # K_ii = 0 makes C_ii = 0 whatever d_ii is
        c = (grad + grad.mT).mul_(k).div_(d).mul_(-ctx.a)  # (B, N, N)
        return pos * c.sum(dim=-1, keepdim=True) - c @ pos, None


BONDS = ((1, 0), (0, 1), (1, 1), (-1, 1))  # (dx, dy) to the right, up, up-right, up-left neighbour


def bond_hoppings(displacements: torch.Tensor, *, a: float) -> torch.Tensor:
    """Relative change of the four short-bond hoppings of every atom, (B, 2, L, L) → (B, 4, L, L).

    Channel k holds exp(−a·(d − d0)) − 1 = K_ij/K⁰_ij − 1 for atom i at rest position (nx, ny) and
    its neighbour j at (nx, ny) + :data:`BONDS`[k] (rest length d0 = 1 or √2): 0 on the undeformed
    lattice, > 0 for a shortened (stronger) bond. Bonds that leave the open lattice are 0. The
    image is differentiable (torch) and rotation-invariant per bond, unlike raw displacements, so a
    CNN fed with it sees the couplings that fix the mode areas directly.
    """
    size = displacements.shape[-1]
    out = displacements.new_zeros(displacements.shape[0], len(BONDS), size, size)
    for k, (dx, dy) in enumerate(BONDS):
        x0, x1 = max(0, -dx), size - max(0, dx)  # atoms whose neighbour exists
        here = displacements[:, :, : size - dy, x0:x1]  # (B, 2, L−dy, ·)
        there = displacements[:, :, dy:, x0 + dx : x1 + dx]
        rel_x = there[:, 0] - here[:, 0] + dx
        rel_y = there[:, 1] - here[:, 1] + dy
        change = torch.hypot(rel_x, rel_y) - math.hypot(dx, dy)
        out[:, k, : size - dy, x0:x1] = torch.expm1(-a * change)
    return out


def hamiltonian(
    displacements: np.ndarray,
    *,
    a: float = DEFAULT_A,
    t0: float = DEFAULT_T0,
    onsite: float = DEFAULT_ONSITE,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """The full H (n, N, N) of Eq. 1 for displacement images (n, 2, L, L)."""
    disp = check_displacements(displacements)
    _check_physics(a, t0, onsite)
    pos = torch.as_tensor(positions(disp), dtype=dtype, device=resolve_device(device))
    k = hopping_matrix(pos, a)
    eye = torch.eye(k.shape[-1], dtype=dtype, device=k.device)
    return onsite * eye + t0 * k


def areas_from_vectors(vectors: torch.Tensor, *, overwrite: bool = False) -> torch.Tensor:
    """w_m = 1/(N Σ_s ψ_ms⁴) for eigenvectors in the columns of ``vectors`` (..., N, N) → (..., N).

    ``overwrite=True`` raises ``vectors`` to the fourth power in place: no (B, N, N) temporaries,
    which on CPU cost more in page faults than the arithmetic (measured 4× on 2 cores).
    """
    if vectors.requires_grad:
        return _Areas.apply(vectors)
    n_sites = vectors.shape[-2]
    fourth = vectors.square_().square_() if overwrite else vectors.pow(4)
    return 1.0 / (n_sites * fourth.sum(dim=-2))


class _Areas(torch.autograd.Function):
    """w_m = 1/(N Σ_s ψ_sm⁴) with its gradient in closed form, ∂w_m/∂ψ_sm = −4N·w_m²·ψ_sm³: one
    (..., N, N) product where autograd chains pow, sum and reciprocal through three (the physics
    step, benchmarks/physics_inverse.py)."""

    @staticmethod
    def forward(ctx, vectors: torch.Tensor) -> torch.Tensor:
        cube = vectors.pow(3)
        w = 1.0 / (vectors.shape[-2] * (cube * vectors).sum(dim=-2))  # (..., N)
        ctx.save_for_backward(cube, w)
        return w

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        cube, w = ctx.saved_tensors
        scale = (-4.0 * cube.shape[-2]) * grad * w.square()  # (..., N), one per mode (column)
        return cube * scale.unsqueeze(-2)


def eigensystem(
    pos: torch.Tensor, *, a: float, t0: float, onsite: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Energies (B, N) ascending and mode areas (B, N) in the same order, for positions (B, N, 2)."""
    lam, vec = eigh(hopping_matrix(pos, a))  # the faster LAPACK where no gradient is needed
    energies = onsite + t0 * lam
    if t0 < 0:  # E = ε + t0·λ reverses the order
        energies, vec = energies.flip(-1), vec.flip(-1)
    return energies, areas_from_vectors(vec, overwrite=True)


def spectrum(
    displacements: np.ndarray,
    *,
    a: float = DEFAULT_A,
    t0: float = DEFAULT_T0,
    onsite: float = DEFAULT_ONSITE,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Energies and their mode areas, both (n, N), ordered by energy (for spectra, Note S5)."""
    disp = check_displacements(displacements)
    _check_physics(a, t0, onsite)
    dev = resolve_device(device)
    energies, areas = [], []
    for start in range(0, disp.shape[0], _CHUNK):
        pos = torch.as_tensor(positions(disp[start : start + _CHUNK]), dtype=dtype, device=dev)
        e, w = eigensystem(pos, a=a, t0=t0, onsite=onsite)
        energies.append(e.cpu().numpy())
        areas.append(w.cpu().numpy())
    return np.concatenate(energies), np.concatenate(areas)


def mode_areas(
    displacements: np.ndarray,
    *,
    a: float = DEFAULT_A,
    t0: float = DEFAULT_T0,
    onsite: float = DEFAULT_ONSITE,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float64,
) -> np.ndarray:
    """Sorted normalised mode areas (n, N) of displacement images (n, 2, L, L), each row ascending.

    Sorting by localisation is the paper's ordering of modes (Fig. 2). ``onsite`` and the magnitude of
    ``t0`` do not change the result; they are accepted so that callers state the physics they mean.
    """
    _, areas = spectrum(displacements, a=a, t0=t0, onsite=onsite, device=device, dtype=dtype)
    return np.sort(areas, axis=-1)


# Differentiable mode areas: the same chain for autograd (the inverse net's 'physics' mode).
#
# The eigenvector gradient of ``eigh`` contains 1/(λi − λj), infinite at degeneracies (the undeformed
# lattice is full of them). :class:`BroadenedEigh` replaces it by (λi − λj)/((λi − λj)² + ε²),
# finite everywhere and within ε²/Δλ² of exact for well-separated levels. λ are eigenvalues of K,
# so ε is in units of t0. K's mean level spacing is ~0.066 on 8×8 and ~0.019 on 16×16 lattices, but
# the smallest gaps of realistic structures are ~1e-4–1e-5: with ε = 1e-6 those pairs dominate the
# gradient (per-structure norms up to ~60× the median on 16×16; mini-batch gradients with cosine
# ~0.2 to the full-batch one), which makes training through it unstable. Training uses ε = 1e-2
# (``InverseConfig.physics_broadening``): gradient spikes gone (max/median ~1.2–1.5), mini-batch
# cosine ~0.96, and the full-batch direction still lowers the exact loss. The function default
# stays near-exact for gradient checks.


class BroadenedEigh(torch.autograd.Function):
    """``torch.linalg.eigh`` of a symmetric matrix with a Lorentzian-broadened backward."""

    @staticmethod
    def forward(ctx, matrix: torch.Tensor, broadening: float) -> tuple[torch.Tensor, torch.Tensor]:
        # (..., N), (..., N, N) eigenvectors in columns; the forward needs no autograd graph, so it
        # takes the faster LAPACK of the machine (physics.eigh) like the no-gradient paths
        lam, vec = eigh(matrix.detach())
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
        raise ValueError(f"broadening: must be >= 0, but got {broadening!r}.")
    return BroadenedEigh.apply(matrix, broadening)


def torch_positions(displacements: torch.Tensor) -> torch.Tensor:
    """Deformed positions (B, N, 2) of displacement images (B, 2, L, L), differentiable."""
    batch, _, size, _ = displacements.shape
    rest = torch.as_tensor(rest_positions(size), dtype=displacements.dtype)
    return rest.to(displacements.device) + displacements.reshape(batch, 2, -1).mT


def differentiable_mode_areas(
    displacements: torch.Tensor, *, a: float, broadening: float = 1e-6
) -> torch.Tensor:
    """Sorted mode areas (B, N) of displacement images (B, 2, L, L) with gradients: the numbers of
    :func:`mode_areas`, through :func:`hopping_matrix` and :func:`broadened_eigh`.

    Use float64: near-degenerate modes need it. ``torch.sort`` is differentiable (it permutes
    gradients).
    """
    _, vec = broadened_eigh(hopping_matrix(torch_positions(displacements), a), broadening)
    return torch.sort(areas_from_vectors(vec), dim=-1).values  # (B, N) ascending
