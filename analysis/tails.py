"""Tail measures at a fixed tail share: the same part of every distribution, whatever its shape.

The CSN power-law fit (:mod:`analysis.powerlaw`) picks its own x_min by the KS distance, whose
several local minima let two draws of one configuration fit different parts of their Δr
distributions (one reference seed: α 6.21, its bootstrap [6.15, 13.58]); over the 0.2–0.5 decades
the tails span, a light tail's fitted α keeps rising with x_min. Here the tail is always the top
``share`` of the values, so every trial measures the same quantile range:

* :func:`hill_alpha`: the Hill estimate, on the pdf exponent's scale so that it reads like ``alpha``.
  With x₍₁₎ ≥ x₍₂₎ ≥ … the values in decreasing order and k = ⌈share·n⌉,
  γ = (1/k)·Σᵢ₌₁..ₖ ln(x₍ᵢ₎/x₍ₖ₊₁₎) and α_hill = 1 + 1/γ. Its interval is exact for a Pareto tail:
  there k·γ/γ_true is a Gamma(k, 1) variable (Rényi's representation of exponential spacings), so
  α's interval is [1 + G(0.025)/(kγ), 1 + G(0.975)/(kγ)] with G the Gamma(k, 1) quantiles.
* :func:`moment_xi`: the extreme-value index ξ by the moment estimator of Dekkers, Einmahl and de Haan
  (1989) at the same k, M_j = (1/k)·Σ (ln(x₍ᵢ₎/x₍ₖ₊₁₎))^j and ξ = M₁ + 1 − ½·(1 − M₁²/M₂)⁻¹. It
  assumes no power law: ξ > 0 is a heavy (Pareto-type) tail with α = 1 + 1/ξ, ξ = 0 an
  exponential-type tail (Rayleigh, Gaussian, lognormal), ξ < 0 a tail with an end point. Its
  interval is normal with the estimator's asymptotic variance (1 + ξ² for ξ ≥ 0; for ξ < 0
  (1 − ξ)²(1 − 2ξ)(1 − ξ + 6ξ²)/((1 − 3ξ)(1 − 4ξ)), de Haan & Ferreira 2006, Thm 3.5.4).

Both intervals treat the values as independent draws. Atoms of one designed structure come from one
forward pass, so they are not; over seeds, :func:`analysis.seed_interval` is the interval to read.
Why not a library: powerlaw fits a tail above a searched x_min, not at a fixed share; scipy has no
Hill or moment estimator; the formulas are a few lines, tested on Pareto, exponential and uniform
samples of known index (``tests/analysis/test_tails.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.uncertainty import CONFIDENCE, Interval

__all__ = ["TailIndex", "tail_size", "hill_alpha", "moment_xi", "MIN_TAIL"]

MIN_TAIL = 10  # tail points below which neither estimate is made (NaN with a reason)


@dataclass(frozen=True)
class TailIndex:
    """An estimate at a fixed tail share with its interval."""

    value: float  # α_hill (pdf exponent) or ξ
    interval: Interval
    k: int  # tail points used (the top k values)
    threshold: float  # x₍ₖ₊₁₎, the largest value left out of the tail
    share: float


def _check_share(share: float) -> float:
    if not (isinstance(share, (int, float)) and 0 < share <= 0.5):
        raise ValueError(f"share must be in (0, 0.5], but got {share=}.")
    return float(share)


def tail_size(n: int, share: float) -> int:
    """k = ⌈share·n⌉, the number of top values a tail at ``share`` holds."""
    return math.ceil(_check_share(share) * n - 1e-9)


def _log_excesses(values, share: float) -> tuple[np.ndarray, float]:
    """ln(x₍ᵢ₎/x₍ₖ₊₁₎) for i = 1..k (decreasing) and x₍ₖ₊₁₎; ValueError when too few."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    k = tail_size(x.size, share)
    if k < MIN_TAIL or k >= x.size:
        raise ValueError(
            f"a tail at share {share:g} of {x.size} values holds {k} points; at least "
            f"{MIN_TAIL} are needed, below all the values."
        )
    top = np.sort(np.partition(x, x.size - k - 1)[x.size - k - 1 :])[::-1]  # x₍₁₎ … x₍ₖ₊₁₎
    threshold = float(top[k])
    if threshold <= 0:
        raise ValueError(f"the tail's threshold x_(k+1) must be > 0, but got {threshold:g}.")
    return np.log(top[:k] / threshold), threshold


def hill_alpha(values, *, share: float = 0.01, confidence: float = CONFIDENCE) -> TailIndex:
    """α_hill = 1 + 1/γ of the top ⌈share·n⌉ values, with its Gamma interval (module docstring)."""
    share = _check_share(share)
    logs, threshold = _log_excesses(values, share)
    k, total = logs.size, float(logs.sum())
    if total <= 0:  # every tail value ties with the threshold: no tail to measure
        raise ValueError(f"the top {k} values all equal the threshold {threshold:g}.")
    low_q, high_q = stats.gamma.ppf([(1 - confidence) / 2, (1 + confidence) / 2], k)
    interval = Interval(1 + low_q / total, 1 + high_q / total, k, confidence)
    return TailIndex(1 + k / total, interval, k, threshold, share)


def _moment_variance(xi: float) -> float:
    if xi >= 0:
        return 1 + xi**2
    return (1 - xi) ** 2 * (1 - 2 * xi) * (1 - xi + 6 * xi**2) / ((1 - 3 * xi) * (1 - 4 * xi))


def moment_xi(values, *, share: float = 0.01, confidence: float = CONFIDENCE) -> TailIndex:
    """ξ of the top ⌈share·n⌉ values by the moment estimator, with its normal interval."""
    share = _check_share(share)
    logs, threshold = _log_excesses(values, share)
    k = logs.size
    m1, m2 = float(logs.mean()), float((logs**2).mean())
    if m2 <= 0:
        raise ValueError(f"the top {k} values all equal the threshold {threshold:g}.")
    xi = m1 + 1 - 0.5 / (1 - m1**2 / m2)
    half = stats.norm.ppf((1 + confidence) / 2) * math.sqrt(_moment_variance(xi) / k)
    return TailIndex(xi, Interval(xi - half, xi + half, k, confidence), k, threshold, share)
