"""Weight strength of the inverse network's output layer (paper Fig. 5b, Note S6).

For the last fully connected layer of the L2D (inverse) net, w_ji^x and w_ji^y are the weights from
hidden neuron i to the Δx and Δy output of atom j. The paper defines the strength of atom j as

    W_j = Σ_i [(w_ji^x)² + (w_ji^y)²],

whose distribution is heavy tailed like Δr of the generated structures: the network's weight
statistics shape the statistics of the structures it generates.

Convention: ``weight`` is the layer's weight as a numpy array (2N, F) in torch's (out, in) layout;
output rows 0..N−1 are Δx of atoms 0..N−1 and rows N..2N−1 are Δy (the 2N outputs reshaped to the
(2, L, L) displacement image), atoms s = ny·L + nx.
"""

from __future__ import annotations

import numpy as np

from analysis.powerlaw import PowerLawFit, fit_power_law
from physics.checks import check_int

__all__ = ["weight_strength", "weight_power_law"]


def weight_strength(weight: np.ndarray, *, size: int) -> np.ndarray:
    """W_j per atom, (N,) float64 with N = size², from the output weight (2N, F)."""
    check_int("size", size, 2)
    w = np.asarray(weight, dtype=np.float64)
    n_atoms = size * size
    if w.ndim != 2 or w.shape[0] != 2 * n_atoms or w.shape[1] == 0:
        raise ValueError(
            f"weight must have shape (2N, F) = ({2 * n_atoms}, F) for {size=}, but got {w.shape}."
        )
    if not np.isfinite(w).all():
        raise ValueError(f"weight must be finite, but got {int((~np.isfinite(w)).sum())} NaN/inf.")
    squared = np.square(w).sum(axis=1)  # (2N,)
    return squared[:n_atoms] + squared[n_atoms:]


def weight_power_law(
    weight: np.ndarray, *, size: int, min_tail: int | None = None, **fit_kwargs: object
) -> PowerLawFit:
    """Power-law fit of the N values W_j (Fig. 5b).

    Only N values (256 for 16×16), so the minimum tail defaults to a quarter of them, between 10 and
    50 points; ``fit_kwargs`` go to :func:`~analysis.powerlaw.fit_power_law`.
    """
    strength = weight_strength(weight, size=size)
    if min_tail is None:
        min_tail = int(np.clip(strength.size // 4, 10, 50))
    return fit_power_law(strength, min_tail=min_tail, **fit_kwargs)
