"""Every verdict rule of the reproduction, as a pure function of measured numbers.

A rule returns one of :data:`~study.reproduce.paper.VERDICTS` and never looks at a run: the row
builders of :mod:`study.reproduce.claims` measure, a rule decides, so each rule is tested on
made-up measurements (tests/study/test_reproduce_rules.py). The ``*_TEXT`` beside each rule is
what the report prints as that rule.
"""

from __future__ import annotations

import math

from study.reproduce.paper import (
    ACCURACY_PARTLY,
    ACCURACY_TOLERANCE,
    ALPHA_TOLERANCE,
    GAIN_PARTLY,
    GAIN_REPRODUCED,
    GINI_MARGIN,
    LINK_MAX_P,
    LINK_MIN_RHO,
    MIN_STRUCTURES,
    PAPER_ALPHA,
    PAPER_ALPHA_1POOL,
    PAPER_BAND_ALPHAS,
    PAPER_XMIN,
    SPECTRA_FACTOR,
    STABILITY_FACTOR,
    VERDICTS,
    XMIN_TOLERANCE,
)

__all__ = [
    "verdict",
    "accuracy",
    "alpha_band",
    "bands",
    "realisations",
    "weights",
    "subsets",
    "robustness",
    "hubs",
    "spectra",
    "one_pool",
    "seeds",
]


OFF_RANGE = 0.5  # share of a heavy tail beyond the training range above which it does not count


def off_range(share: float) -> bool:
    """A tail mostly of atoms beyond the training range (NaN: not known, not off range)."""
    return math.isfinite(share) and share > OFF_RANGE


def verdict(ok: bool, partly: bool) -> str:
    return VERDICTS[0] if ok else VERDICTS[1] if partly else VERDICTS[2]


def _near(value: float, target: float, tolerance: float) -> bool:
    return math.isfinite(value) and abs(value - target) <= tolerance


ACCURACY_TEXT = (
    f"reproduced if ≥ paper − {100 * ACCURACY_TOLERANCE:g} points; partly if ≥ paper − "
    f"{100 * ACCURACY_PARTLY:g} points"
)


def accuracy(value: float, paper: float) -> str:
    return verdict(value >= paper - ACCURACY_TOLERANCE, value >= paper - ACCURACY_PARTLY)


ALPHA_TEXT = (
    f"reproduced if heavy, |α − {PAPER_ALPHA}| ≤ {ALPHA_TOLERANCE} and |Δr_min − {PAPER_XMIN}| ≤ "
    f"{XMIN_TOLERANCE}; partly if heavy; a heavy tail more than {OFF_RANGE:.0%} beyond the "
    "training range (heavy†) is not heavy here"
)


def alpha_band(heavy: bool, alpha: float, xmin: float) -> str:
    near = _near(alpha, PAPER_ALPHA, ALPHA_TOLERANCE) and _near(xmin, PAPER_XMIN, XMIN_TOLERANCE)
    return verdict(heavy and near, heavy)


BANDS_TEXT = (
    f"reproduced if ≥ 2 bands hold ≥ {MIN_STRUCTURES} structures, all heavy, all α in "
    f"{PAPER_BAND_ALPHAS[0]}–{PAPER_BAND_ALPHAS[1]} ± {ALPHA_TOLERANCE}; partly if any band is heavy"
)


def band_alpha_inside(alpha: float) -> bool:
    lo, hi = PAPER_BAND_ALPHAS
    return lo - ALPHA_TOLERANCE <= alpha <= hi + ALPHA_TOLERANCE


def bands(fitted: int, heavy: int, inside: bool) -> str:
    """``fitted`` bands with enough structures, ``heavy`` of them heavy, ``inside``: every fitted
    α within the paper's range ± tolerance."""
    return verdict(fitted >= 2 and heavy == fitted and inside, heavy >= 1)


REALISATIONS_TEXT = (
    f"reproduced if |α(10) − α(all)| ≤ {ALPHA_TOLERANCE}; partly if |α(100) − α(all)| ≤ "
    f"{ALPHA_TOLERANCE}; α(k) counts only when the population holds ≥ {STABILITY_FACTOR}·k "
    "structures"
)


def stable(n: int, alpha_k: float, alpha_all: float, k: int) -> bool:
    """α of the first k structures within tolerance of α of all n, with n ≥ STABILITY_FACTOR·k."""
    return n >= STABILITY_FACTOR * k and _near(alpha_k, alpha_all, ALPHA_TOLERANCE)


def realisations(n: int, alpha_by_k: dict[int, float], alpha_all: float) -> str:
    def at(k: int) -> bool:
        return stable(n, alpha_by_k.get(k, math.nan), alpha_all, k)

    return verdict(at(10), at(100))


WEIGHTS_TEXT = (
    f"reproduced if W_j is heavy with no alternative preferred and ρ ≥ {LINK_MIN_RHO} with "
    f"p < {LINK_MAX_P}; partly if either holds"
)


def linked(rho: float, p: float) -> bool:
    return math.isfinite(rho) and rho >= LINK_MIN_RHO and p < LINK_MAX_P


def weights(power_law_kept: bool, heavy: bool, rho: float, p: float) -> str:
    link = linked(rho, p)
    return verdict(power_law_kept and link, heavy or link)


SUBSETS_TEXT = (
    f"reproduced if both subsets are heavy and |α_high − α_low| ≤ {ALPHA_TOLERANCE}; partly if "
    "one of the two holds"
)


def subsets(high_heavy: bool, low_heavy: bool, alpha_high: float, alpha_low: float) -> str:
    close = _near(alpha_high, alpha_low, ALPHA_TOLERANCE)
    both = high_heavy and low_heavy
    return verdict(both and close, both or close)


ROBUSTNESS_TEXT = f"reproduced if gain ≥ {GAIN_REPRODUCED:g}; partly if ≥ {GAIN_PARTLY:g}"


def robustness(gain: float) -> str:
    return verdict(gain >= GAIN_REPRODUCED, gain >= GAIN_PARTLY)


HUBS_TEXT = f"reproduced if Gini(generated) ≥ Gini(seeds) + {GINI_MARGIN}; partly if larger at all"


def hubs(gini: float, gini_seed: float) -> str:
    return verdict(gini >= gini_seed + GINI_MARGIN, gini > gini_seed)


SPECTRA_TEXT = (
    f"reproduced if the shift ≥ {SPECTRA_FACTOR:g}× the seed-vs-seed shift; partly if larger"
)


def spectra(shift: float, reference: float) -> str:
    return verdict(shift >= SPECTRA_FACTOR * reference, shift > reference)


ONE_POOL_TEXT = (
    f"reproduced if both heavy, |α₁ − {PAPER_ALPHA_1POOL}| ≤ {ALPHA_TOLERANCE} and |α₃ − "
    f"{PAPER_ALPHA}| ≤ {ALPHA_TOLERANCE}; partly if either holds"
)


def one_pool(heavy_3: bool, heavy_1: bool, alpha_3: float, alpha_1: float) -> str:
    near = _near(alpha_1, PAPER_ALPHA_1POOL, ALPHA_TOLERANCE) and _near(
        alpha_3, PAPER_ALPHA, ALPHA_TOLERANCE
    )
    both = heavy_3 and heavy_1
    return verdict(both and near, both or near)


SEEDS_TEXT = (
    "reproduced if the seeds' tail is judged not heavy or an alternative is preferred over the "
    "power law (a tail too short to tell shows nothing); partly if the seeds' α exceeds the "
    f"generated α by > {ALPHA_TOLERANCE}"
)


def seeds(fitted: bool, tail: str, preferred: bool, alpha_seed: float, alpha_gen: float) -> str:
    """``fitted``: the seeds' tail could be fitted; ``tail``: its PowerLawFit.verdict;
    ``preferred``: some alternative is preferred over the power law."""
    ruled_out = fitted and (tail == "not heavy" or preferred)
    lighter = math.isfinite(alpha_seed) and math.isfinite(alpha_gen)
    lighter = lighter and alpha_seed > alpha_gen + ALPHA_TOLERANCE
    return verdict(ruled_out, lighter)
