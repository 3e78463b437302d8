"""Robustness to single-atom attacks and hub atoms (paper Fig. 6).

An attack moves atom i by ρa in a random direction u_i(0, 2π) and recomputes the sorted mode areas;
Δw_m = w_m(attacked) − w_m(intact) per mode m (both sorted ascending, the paper's mode order).
Everything here derives from |Δw| of shape (n, N_attacked_atom, N_modes), computed in float64 by
:func:`physics.attacked_mode_areas` (all N attacked copies of a structure in one batched eigh):

* per-atom sensitivity δ_i = mean_m |Δw_m| when atom i is attacked (Fig. 6c,d, "normalised error");
* per-mode perturbation mean_i |Δw_m| over attacked atoms (Fig. 6a,b, the blue curves);
* the robustness gain of generated over seed structures (the paper: 2–4 orders of magnitude), the
  geometric mean over pairs of the per-pair ratio (an arithmetic mean over 2–8 pairs is one pair's
  number), with the same ratio on the most localised modes (m < :data:`SMALL_M`) beside it;
* the share of isolated atoms (:func:`isolated_fraction`): an atom far from every other one barely
  couples, so attacks on it move no mode area and a "gain" built on such atoms is no robustness;
* the Gini coefficient of δ over atoms: 0 for a "democratic" response (Erdős–Rényi-like seeds),
  → 1 − 1/N when one hub carries all of it (Barabási–Albert-like generated structures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import physics

__all__ = [
    "SMALL_M",
    "ISOLATION_DISTANCE",
    "isolated_fraction",
    "RobustnessGain",
    "attack_perturbations",
    "attack_sensitivity",
    "mode_perturbation",
    "robustness_gain",
    "gini",
    "hub_gini",
]


SMALL_M = 32  # the most localised modes (sorted ascending by area): where the paper's curves part
# An atom is isolated when its nearest neighbour is farther than this (lattice periods): its strongest
# hopping is then below exp(−2a) ≈ 0.10 of t0, a third of a rest-lattice bond's exp(−a) ≈ 0.32, so
# its modes barely mix with the rest and attacks on it leave every other mode area alone.
ISOLATION_DISTANCE = 2.0


def isolated_fraction(displacements: np.ndarray, *, distance: float = ISOLATION_DISTANCE) -> float:
    """Share of atoms, over all structures (n, 2, L, L), whose nearest neighbour is farther than
    ``distance`` lattice periods."""
    pos = physics.positions(physics.check_displacements(displacements))  # (n, N, 2)
    isolated = 0
    for k in range(pos.shape[0]):  # one (N, N) distance matrix at a time
        gap = np.linalg.norm(pos[k, :, None] - pos[k, None], axis=-1)
        np.fill_diagonal(gap, np.inf)
        isolated += int((gap.min(axis=1) > distance).sum())
    return isolated / (pos.shape[0] * pos.shape[1])


def attack_perturbations(
    displacements: np.ndarray,
    *,
    strength: float,
    seed: int | np.random.SeedSequence,
    device: str | None = None,
) -> np.ndarray:
    """|Δw_m| for every attacked atom i and mode m: (n, N_attacked_atom, N_modes) float64.

    ``strength`` is ρa in lattice periods; ``seed`` fixes the attack directions, one per structure
    and atom, so two sets of the same shape attacked with the same seed get the same directions.
    """
    intact, attacked = physics.attacked_mode_areas(
        displacements, strength=strength, seed=seed, device=device
    )
    return np.abs(attacked - intact[:, None, :])  # (n, N_att, N_modes)


def attack_sensitivity(
    displacements: np.ndarray,
    *,
    strength: float,
    seed: int | np.random.SeedSequence,
    device: str | None = None,
) -> np.ndarray:
    """δ_i = mean over modes of |Δw_m| when atom i is attacked: (n, N) float64, atoms s = ny·L + nx."""
    dw = attack_perturbations(displacements, strength=strength, seed=seed, device=device)
    return dw.mean(axis=-1)


def mode_perturbation(
    displacements: np.ndarray,
    *,
    strength: float,
    seed: int | np.random.SeedSequence,
    device: str | None = None,
) -> np.ndarray:
    """mean over attacked atoms of |Δw_m| per sorted mode m: (n, N) float64 (Fig. 6a,b curves)."""
    dw = attack_perturbations(displacements, strength=strength, seed=seed, device=device)
    return dw.mean(axis=1)


@dataclass(frozen=True)
class RobustnessGain:
    """Seed vs generated structures under the same single-atom attacks (Fig. 6a,b)."""

    gain: float  # geometric mean over pairs of mean|Δw|(seed) / mean|Δw|(generated); > 1: robust
    log10_gain: float  # mean over pairs of log10 of that ratio (the paper's "orders of magnitude")
    small_m_gain: float  # the same geometric mean over the modes m < SMALL_M only
    per_pair: np.ndarray  # (n,) the ratio per matched pair
    seed_curve: np.ndarray  # (N,) mean over pairs and attacked atoms of |Δw_m| per mode, seeds
    generated_curve: np.ndarray  # (N,) the same for the generated structures
    seed_delta: np.ndarray  # (n, N) per-atom δ of the seeds (for hub statistics without recompute)
    generated_delta: np.ndarray  # (n, N) per-atom δ of the generated structures


def robustness_gain(
    seed_displacements: np.ndarray,
    generated_displacements: np.ndarray,
    *,
    strength: float,
    seed: int | np.random.SeedSequence,
    device: str | None = None,
) -> RobustnessGain:
    """Robustness of generated structures relative to the seeds they were designed from.

    Pair b is (seed structure b, structure generated for seed b's mode areas); both members are
    attacked with the same directions (same ``seed``, same shapes). The gain is the geometric mean
    of the per-pair ratios; a structure compared with itself gives exactly 1.
    """
    seeds = physics.check_displacements(seed_displacements, name="seed_displacements")
    generated = physics.check_displacements(generated_displacements, name="generated_displacements")
    if seeds.shape != generated.shape:
        raise ValueError(
            "seed_displacements and generated_displacements must have the same shape (matched "
            f"pairs), but got {seeds.shape} and {generated.shape}."
        )
    if not (np.isscalar(strength) and np.isfinite(strength) and strength > 0):
        raise ValueError(f"strength must be a finite number > 0, but got {strength=}.")
    dw_seed = attack_perturbations(seeds, strength=strength, seed=seed, device=device)
    dw_generated = attack_perturbations(generated, strength=strength, seed=seed, device=device)
    mean_seed, mean_generated = dw_seed.mean(axis=(1, 2)), dw_generated.mean(axis=(1, 2))  # (n,)
    if np.any(mean_generated == 0) or np.any(mean_seed == 0):
        raise ValueError("every structure must respond to the attacks, but some have |Δw| = 0.")
    ratio = mean_seed / mean_generated
    small = min(SMALL_M, dw_seed.shape[-1])
    small_ratio = dw_seed[..., :small].mean(axis=(1, 2)) / dw_generated[..., :small].mean(
        axis=(1, 2)
    )
    log10_gain = float(np.log10(ratio).mean())
    return RobustnessGain(
        gain=float(10.0**log10_gain),
        log10_gain=log10_gain,
        small_m_gain=float(10.0 ** np.log10(small_ratio).mean()),
        per_pair=ratio,
        seed_curve=dw_seed.mean(axis=1).mean(axis=0),
        generated_curve=dw_generated.mean(axis=1).mean(axis=0),
        seed_delta=dw_seed.mean(axis=-1),
        generated_delta=dw_generated.mean(axis=-1),
    )


def gini(values: np.ndarray) -> np.ndarray | float:
    """Gini coefficient over the last axis: Σ_ij |v_i − v_j| / (2 N² mean v).

    0 when every entry is equal, 1 − 1/N when one entry holds everything. Values must be finite,
    non-negative, with a positive sum per row. Returns a float for 1-D input, else an array of the
    leading shape.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0 or v.shape[-1] == 0:
        raise ValueError(f"values must have a non-empty last axis, but got shape={v.shape}.")
    if not np.isfinite(v).all():
        raise ValueError(f"values must be finite, but got {int((~np.isfinite(v)).sum())} NaN/inf.")
    if (v < 0).any():
        raise ValueError(f"values must be >= 0, but got {int((v < 0).sum())} negative values.")
    total = v.sum(axis=-1)
    if (total <= 0).any():
        raise ValueError(
            f"values must have a positive sum, but {int((total <= 0).sum())} rows are 0."
        )
    n = v.shape[-1]
    rank = np.arange(1, n + 1)  # sorted form: G = 2 Σ_k k v_(k) / (N Σ v) − (N + 1)/N
    g = 2.0 * (np.sort(v, axis=-1) * rank).sum(axis=-1) / (n * total) - (n + 1) / n
    g = np.clip(g, 0.0, None)  # rounding can leave −1e-16 for uniform rows
    return float(g) if v.ndim == 1 else g


def hub_gini(delta: np.ndarray) -> float:
    """Mean Gini coefficient of the per-atom δ over structures, delta (n, N) → float."""
    d = np.asarray(delta)
    if d.ndim != 2:
        raise ValueError(f"delta must have shape (n, N), but got shape={d.shape}.")
    return float(np.mean(gini(d)))
