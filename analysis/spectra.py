"""Energy spectra of seed vs generated structures (paper Note S5, Fig. S6).

Generated structures reproduce the seeds' sorted mode areas but not their energies: the inverse
problem fixes localisation, not the spectrum. This module measures by how much the spectrum moves.

Energies E = ε + t0·λ come from :func:`physics.spectrum` (ε = onsite, λ eigenvalues of the hopping
matrix K_ij = exp(−a d_ij)). Distances are reported in units of t0, i.e. as distances between the
λ spectra, so they do not depend on the arbitrary t0 and ε.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import physics
from physics.checks import check_int
from physics.hamiltonian import DEFAULT_A, DEFAULT_ONSITE, DEFAULT_T0

__all__ = ["SpectraShift", "spectra_shift"]


@dataclass(frozen=True)
class SpectraShift:
    """Spectra of matched seed/generated pairs and how far apart they are."""

    seed_energies: np.ndarray  # (n, N) ascending energies of the seeds (energy units)
    seed_areas: np.ndarray  # (n, N) mode areas w of those eigenstates, same order
    generated_energies: np.ndarray  # (n, N)
    generated_areas: np.ndarray  # (n, N)
    bin_edges: np.ndarray  # (bins + 1,) common energy grid of both DOS
    seed_dos: np.ndarray  # (bins,) density of states per atom per unit energy, ∫ DOS dE = 1
    generated_dos: np.ndarray  # (bins,)
    per_pair: np.ndarray  # (n,) 1-Wasserstein distance between the two spectra of a pair / |t0|
    dos_distance: float  # mean of per_pair: average energy shift of a level, in units of |t0|


def spectra_shift(
    seed_displacements: np.ndarray,
    generated_displacements: np.ndarray,
    *,
    bins: int = 64,
    a: float = DEFAULT_A,
    t0: float = DEFAULT_T0,
    onsite: float = DEFAULT_ONSITE,
    device: str | None = None,
) -> SpectraShift:
    """Spectra, DOS on a common grid and the mean W1 distance of matched pairs (n, 2, L, L) each.

    The 1-Wasserstein distance between two spectra of N levels each (``scipy.stats.
    wasserstein_distance`` of the two energy lists) is the mean |E_k − E'_k| over levels matched in
    energy order: how far, on average, a level moved.
    """
    seeds = physics.check_displacements(seed_displacements, name="seed_displacements")
    generated = physics.check_displacements(generated_displacements, name="generated_displacements")
    if seeds.shape != generated.shape:
        raise ValueError(
            "seed_displacements and generated_displacements must have the same shape (matched "
            f"pairs), but got {seeds.shape} and {generated.shape}."
        )
    check_int("bins", bins, 1)
    physics_kw = {"a": a, "t0": t0, "onsite": onsite, "device": device}
    e_seed, w_seed = physics.spectrum(seeds, **physics_kw)
    e_gen, w_gen = physics.spectrum(generated, **physics_kw)
    edges = np.linspace(min(e_seed.min(), e_gen.min()), max(e_seed.max(), e_gen.max()), bins + 1)
    dos_seed = np.histogram(e_seed, bins=edges, density=True)[0]
    dos_gen = np.histogram(e_gen, bins=edges, density=True)[0]
    # W1 of two N-point distributions: mean |difference| of the sorted samples (rows are sorted)
    per_pair = np.abs(e_seed - e_gen).mean(axis=-1) / abs(t0)
    return SpectraShift(
        e_seed, w_seed, e_gen, w_gen, edges, dos_seed, dos_gen, per_pair, float(per_pair.mean())
    )
