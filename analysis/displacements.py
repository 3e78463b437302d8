"""Displacement magnitudes Δr and their power law versus sample size (paper Fig. 4g, Note S3).

Δr_i = [(Δx_i)² + (Δy_i)²]^½ is the deformation strength of atom i, in units of the lattice period;
its distribution over all atoms of all realisations is what the paper fits with a power law
(α ≈ 3.79, Δr_min ≈ 0.432 for generated structures) and what Note S3 refits on the first k
realisations to show that α settles by ~10 realisations and Δr_min by ~100.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.powerlaw import PowerLawFit, fit_power_law
from physics import check_displacements

__all__ = ["as_structures", "displacement_magnitudes", "realisation_fits"]


def as_structures(displacements: object, *, name: str = "displacements") -> np.ndarray:
    """A float64 (n, 2, L, L) array from one such array or a list of (2, L, L) / (k, 2, L, L)."""
    if isinstance(displacements, (list, tuple)):
        if not displacements:
            raise ValueError(f"{name} must hold at least one structure, but got an empty list.")
        parts = [np.asarray(d) for d in displacements]
        parts = [p[None] if p.ndim == 3 else p for p in parts]
        shapes = {p.shape[1:] for p in parts}
        if len(shapes) != 1:
            raise ValueError(f"{name} must share one lattice shape, but got {sorted(shapes)}.")
        displacements = np.concatenate(parts)
    return check_displacements(displacements, name=name)


def displacement_magnitudes(displacements: object) -> np.ndarray:
    """Δr of every atom, flattened (n·N,) float64: structure-major, atoms s = ny·L + nx."""
    disp = as_structures(displacements)
    return np.hypot(disp[:, 0], disp[:, 1]).reshape(-1)


def realisation_fits(
    displacements: object, counts: Sequence[int], **fit_kwargs: object
) -> list[PowerLawFit]:
    """Power-law fits of Δr of the first k realisations for each k in ``counts`` (Note S3).

    ``fit_kwargs`` go to :func:`~analysis.powerlaw.fit_power_law` (comparisons are off unless
    asked for: only α and xmin are plotted).
    """
    disp = as_structures(displacements)
    ks = np.asarray(counts)
    if ks.ndim != 1 or ks.size == 0 or not np.issubdtype(ks.dtype, np.integer):
        raise ValueError(f"counts must be a non-empty list of integers, but got {counts!r}.")
    if ks.min() < 1 or ks.max() > disp.shape[0]:
        raise ValueError(
            f"counts must lie in [1, {disp.shape[0]}] (the number of realisations), but got "
            f"min={ks.min()}, max={ks.max()}."
        )
    fit_kwargs.setdefault("compare", False)
    return [fit_power_law(displacement_magnitudes(disp[:k]), **fit_kwargs) for k in ks]
