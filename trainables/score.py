"""Score one trial the same way for every architecture (the contract's final metrics).

``d2l_accuracy`` forward net on the test split; ``validated_accuracy`` / ``l2d2l_accuracy`` of the
generated structures (true Hamiltonian / frozen forward net); ``alpha``, ``xmin``, ``ks_distance``,
``n_tail`` power-law fit of the generated Δr (``alpha_seed`` of the seed structures beside it);
``alpha_hill``, ``tail_xi`` and their ``*_inside`` twins: the same Δr at a fixed tail share;
``weight_alpha`` of the inverse head's W_j; ``robustness_gain`` and ``hub_gini``/``hub_gini_seed``
from single-atom attacks on the first ``score.n_attacked`` pairs, with bootstrap intervals of α
and of the gain; the dataset's baselines (:mod:`trainables.baseline`: statistics, oracle,
structure and linear k-NN, the trivial designers), given by the caller or computed here, and the
trial's two skills against them.

A power-law fit that cannot be made (too few tail points, …) gives NaN for its metrics and a
``*_reason`` string instead of failing the trial. :mod:`analysis` is imported here, lazily.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from physics import Split
from physics import mode_areas as physics_mode_areas
from trainables.baseline import dataset_baselines, with_skills
from trainables.config import TrialConfig
from trainables.designs import (
    Designs,
    numpy_accuracy,
    surrogate_mode_areas,
    validate_structures,
)
from trainables.metrics import CONTRACT_METRICS, EXTRA_METRICS, POWER_LAW_KEYS
from trainables.training import training_range

__all__ = [
    "CONTRACT_METRICS",
    "EXTRA_METRICS",
    "power_law_metrics",
    "tail_metrics",
    "seed_alpha",
    "weight_metrics",
    "attack_metrics",
    "score_trial",
    "Scores",
]


def _fit_or_nan(fit, values: np.ndarray, names: dict[str, str]) -> dict[str, object]:
    """``{metric: float(result.attribute)}`` for ``names = {attribute: metric}``; on ValueError
    NaN for each, and the first metric's ``*_reason`` holds the message."""
    try:
        result = fit(values)
    except ValueError as err:
        first = next(iter(names.values()))
        return {**{m: math.nan for m in names.values()}, f"{first}_reason": str(err)}
    return {metric: float(getattr(result, attr)) for attr, metric in names.items()}


def power_law_metrics(
    displacements: np.ndarray,
    *,
    n_boot: int = 0,
    seed: int = 0,
    training_max: float | None = None,
) -> dict[str, object]:
    """alpha, xmin, ks_distance, n_tail, tail_decades of the Δr distribution of structures
    (n, 2, L, L), and ``alpha_verdict`` (heavy / not heavy / too short to tell, a text); with
    ``n_boot`` > 0 also ``alpha_lo``/``alpha_hi``, the 95 % bootstrap interval of α over the
    structures (:func:`analysis.alpha_interval`); with ``training_max`` (the training data's
    largest |Δ| component) ``tail_out_of_range``, the share of the tail's atoms (Δr ≥ xmin) with a
    component beyond it. Why: an unbounded net can fling a few atoms far out, and those alone can
    make a heavy tail (α 2.4 over 1.4 decades, 81 % of it beyond the training range, in one
    reference confirmation seed): a tail the forward net never saw and Eq. 5 never makes."""
    import analysis

    values = analysis.displacement_magnitudes(displacements)
    try:
        fit = analysis.fit_power_law(values)
    except ValueError as err:
        return {**{k: math.nan for k in POWER_LAW_KEYS}, "alpha_reason": str(err)}
    metrics = {k: float(getattr(fit, k)) for k in POWER_LAW_KEYS} | {"alpha_verdict": fit.verdict}
    if training_max is not None:
        tail = values >= fit.xmin  # the fitted Δr, atom by atom (structure-major)
        beyond = np.abs(np.asarray(displacements)).max(axis=1).reshape(-1) > training_max
        metrics["tail_out_of_range"] = float(beyond[tail].mean()) if tail.any() else math.nan
    if n_boot:
        interval = analysis.alpha_interval(displacements, n_boot=n_boot, seed=seed)
        metrics |= {"alpha_lo": interval.low, "alpha_hi": interval.high}
    return metrics


def tail_metrics(
    displacements: np.ndarray, *, share: float, training_max: float | None = None
) -> dict[str, object]:
    """The fixed-share tail measures (:mod:`analysis.tails`) of the Δr of structures
    (n, 2, L, L), each with its ``_lo``/``_hi``: ``alpha_hill`` (Hill's α at the top ``share`` of
    the values) and ``tail_xi`` (the moment estimator's ξ there: > 0 heavy, ≤ 0 not), and, with
    ``training_max``, both again over the atoms whose components all lie inside the training range
    (``*_inside``), so that atoms an unbounded net flung out cannot make a tail; ``tail_k``, the
    tail points. A measure that cannot be made is NaN with a ``*_reason``."""
    import analysis
    from analysis.tails import hill_alpha, moment_xi, tail_size

    values = analysis.displacement_magnitudes(displacements)
    sets = {"": values}
    if training_max is not None:
        inside = np.abs(np.asarray(displacements)).max(axis=1).reshape(-1) <= training_max
        sets["_inside"] = values[inside]
    metrics: dict[str, object] = {"tail_k": float(tail_size(values.size, share))}
    for suffix, x in sets.items():
        for name, estimate in (("alpha_hill", hill_alpha), ("tail_xi", moment_xi)):
            key = f"{name}{suffix}"
            try:
                tail = estimate(x, share=share)
            except ValueError as err:
                metrics |= {key: math.nan, f"{key}_lo": math.nan, f"{key}_hi": math.nan}
                metrics[f"{key}_reason"] = str(err)
                continue
            low, high = tail.interval.low, tail.interval.high
            metrics |= {key: float(tail.value), f"{key}_lo": float(low), f"{key}_hi": float(high)}
    return metrics


def seed_alpha(displacements: np.ndarray) -> dict[str, object]:
    """alpha_seed: the same fit on the seed structures (the paper: not heavy tailed)."""
    import analysis

    values = analysis.displacement_magnitudes(displacements)
    return _fit_or_nan(analysis.fit_power_law, values, {"alpha": "alpha_seed"})


def weight_metrics(inverse: nn.Module) -> dict[str, object]:
    """weight_alpha: power-law exponent of W_j of the inverse head, weight (2N, F)."""
    import analysis

    weight = inverse.head.weight.detach().double().cpu().numpy()  # (2N, F): Δx rows, then Δy
    fit = lambda w: analysis.weight_power_law(w, size=inverse.size)  # noqa: E731
    return _fit_or_nan(fit, weight, {"alpha": "weight_alpha"})


def attack_metrics(
    seeds: np.ndarray,
    generated: np.ndarray,
    *,
    strength: float,
    seed: int,
    device: str | torch.device | None = None,
    n_boot: int = 0,
    bootstrap_seed: int = 0,
) -> tuple[dict[str, float], object]:
    """robustness_gain (seed vs generated, geometric mean over pairs; its log10, the m < 32 ratio and
    the number of pairs beside it), isolated_fraction of the attacked designs, hub_gini and
    hub_gini_seed from one set of attacks: the δ maps (n, N) come with the gain, so every structure
    is attacked once; with ``n_boot`` > 0 the gain's 95 % bootstrap interval over the pairs
    (``robustness_gain_lo``/``_hi``). Also returns the :class:`analysis.RobustnessGain` (δ maps for
    the trial's figures)."""
    import analysis

    dev = None if device is None else str(device)
    result = analysis.robustness_gain(seeds, generated, strength=strength, seed=seed, device=dev)
    metrics = {
        "robustness_gain": float(result.gain),
        "robustness_log10_gain": float(result.log10_gain),
        "robustness_small_m": float(result.small_m_gain),
        "robustness_pairs": float(result.per_pair.size),
        "isolated_fraction": analysis.isolated_fraction(generated),
        "hub_gini": float(analysis.hub_gini(result.generated_delta)),
        "hub_gini_seed": float(analysis.hub_gini(result.seed_delta)),
    }
    if n_boot:
        interval = analysis.gain_interval(result.per_pair, seed=bootstrap_seed)
        metrics |= {"robustness_gain_lo": interval.low, "robustness_gain_hi": interval.high}
    return metrics, result


@dataclass(frozen=True)
class Scores:
    """A trial's final metrics and what its figures need."""

    metrics: dict[str, object]  # the final metrics (floats, plus ``*_reason`` strings)
    true_areas: np.ndarray  # (n, N) mode areas of the designs with the true Hamiltonian
    attacks: object  # analysis.RobustnessGain of the attacked pairs


def score_trial(
    config: TrialConfig,
    forward: nn.Module,
    inverse: nn.Module,
    splits: dict[str, Split],
    designs: Designs,
    *,
    attack_seed: int,
    bootstrap_seed: int = 0,
    device: str | torch.device | None = None,
    baselines: dict | Callable[[], dict] | None = None,
) -> Scores:
    """All final metrics of a trial but the collapse verdict (:mod:`trainables.diagnostics`).
    ``baselines``: the dataset's (:func:`trainables.baseline.dataset_baselines`, cached by a
    study); computed here when not given."""
    data, score = config.data, config.score
    train, test = splits["train"], splits["test"]
    seeds, generated = designs.seed_displacements, designs.displacements  # (n, 2, L, L) each
    k = score.n_attacked
    training_max = training_range(train[0])
    d2l = numpy_accuracy(surrogate_mode_areas(forward, test[0], device=device), test[1])
    validated, true_areas = validate_structures(
        designs.targets,
        generated,
        forward=forward,
        training_max=training_max,
        a=data.a,
        t0=data.t0,
        onsite=data.onsite,
        device=device,
    )
    strength = score.attack_strength
    attacked, attacks = attack_metrics(
        seeds[:k],
        generated[:k],
        strength=strength,
        seed=attack_seed,
        device=device,
        n_boot=score.n_boot,
        bootstrap_seed=bootstrap_seed,
    )
    if designs.net_displacements is not None:  # refined: what the net alone had reached
        net_areas = physics_mode_areas(
            designs.net_displacements, a=data.a, t0=data.t0, onsite=data.onsite, device=device
        )
        validated["net_validated_accuracy"] = numpy_accuracy(net_areas, designs.targets)
    if baselines is None:
        baselines = dataset_baselines(config, splits, device=device)
    elif callable(baselines):  # computed elsewhere, read when needed
        baselines = baselines()
    metrics = {
        "d2l_accuracy": d2l,
        **validated,
        **with_skills(
            baselines, d2l_accuracy=d2l, validated_accuracy=validated["validated_accuracy"]
        ),
        **power_law_metrics(
            generated, n_boot=score.n_boot, seed=bootstrap_seed, training_max=training_max
        ),
        **tail_metrics(generated, share=score.hill_share, training_max=training_max),
        **seed_alpha(seeds),
        **weight_metrics(inverse),
        **attacked,
    }
    return Scores(metrics, true_areas, attacks)
