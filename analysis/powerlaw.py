"""Continuous power-law fits p(x) ∝ x^−α for x ≥ xmin (Clauset, Shalizi & Newman 2009).

The paper fits the distribution of atomic displacement magnitudes Δr (Fig. 4g-1, Fig. 5, Note S3)
with the maximum-likelihood method and goodness-of-fit tests of its refs. 52–53 (Clauset et al.,
and the ``powerlaw`` package): α is the MLE above a lower bound xmin (the paper's Δr_min), and xmin
is the candidate that minimises the Kolmogorov–Smirnov distance between the tail data and the fit.

Why the xmin search is our own: ``powerlaw.Fit`` without ``xmin`` builds and fits one distribution
object per distinct value, O(n²) in time. Measured on this project's 2-core machines: 5,000 values
take ~3 s and 10⁴ values up to ~45 s, so the paper's 3200 realisations × 256 atoms = 819,200 values
would take a day or more. :func:`fit_power_law` scans the candidates itself, vectorised with numpy
(819,200 values: ~0.4 s for xmin and α, ~1.3 s with the comparisons; benchmarks/powerlaw_fit.py;
:mod:`analysis.xmin_search` has the details).

The KS distance uses the convention of Clauset's ``plfit`` and of ``powerlaw``: the empirical CDF of
the tail at each distinct value is the fraction of tail values strictly below it.

The chosen xmin is then handed to ``powerlaw.Fit`` for α, its standard error and the likelihood-ratio
comparisons with other heavy-tailed candidates. Two facts about ``powerlaw`` 2.0 shape that call:

* it bounds α to [0, 3] by default (``parameter_ranges``) and fits numerically outside (1.5, 3], so
  an exponent like the paper's 3.79 is clipped to 3 unless the range is widened (``alpha_range``);
* its truncated power law evaluates its CDF with mpmath point by point for the KS distance, which we
  do not need (measured: 71 s on 4·10⁵ tail values), and its lognormal fit runs ~400 Nelder–Mead
  steps over the whole tail (5 s). Comparisons therefore skip that KS distance and use a random
  subsample of at most ``compare_max`` tail values (a likelihood-ratio test on 10⁵ values keeps
  ample power).

All of powerlaw's warnings are silenced inside those calls; results are checked here instead.

Judgements live on :class:`PowerLawFit`. A fitted α alone says little: on a tail shorter than an
octave the likelihood-ratio tests cannot decide, and Rayleigh draws above a fixed xmin fit α ≈ 5.5.
So every fit carries its tail's length (``tail_decades``) and size (``n_tail``), and a tail is
called heavy only if the power law beats the exponential significantly *and* the same test does not
say the same of a light-tailed control of the same size above the same xmin (:data:`VERDICT_RULE`);
otherwise the verdict is "too short to tell" (or "not heavy" when the exponential wins).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import powerlaw

from analysis.xmin_search import Sorted, eligible, fixed_fit, ks_exact
from analysis.xmin_search import scan as scan_xmin
from physics.checks import check_int

__all__ = [
    "PowerLawFit",
    "fit_power_law",
    "exhaustive_xmin",
    "SIGNIFICANCE",
    "HEAVY_ALPHA_MAX",
    "VERDICT_RULE",
]

COMPARED = ("lognormal", "exponential", "truncated_power_law")
SIGNIFICANCE = 0.1  # p of the likelihood-ratio comparisons (Clauset et al.)
HEAVY_ALPHA_MAX = 6.0  # steeper tails are indistinguishable from bounded (seed-like) ones here
HEAVY, NOT_HEAVY, TOO_SHORT = "heavy", "not heavy", "too short to tell"
VERDICT_RULE = (
    f"a tail is heavy when the power law is significantly better than the exponential (R > 0, "
    f"p < {SIGNIFICANCE:g}) and the same test does not say so of a light-tailed control (Rayleigh "
    f"draws of the same size above the same xmin); not heavy when α > {HEAVY_ALPHA_MAX:g} or the "
    "exponential is significantly better; otherwise too short to tell"
)


def _beats_exponential(r: float, p: float) -> bool:
    return r > 0 and p < SIGNIFICANCE


@dataclass(frozen=True)
class PowerLawFit:
    """A continuous power law p(x) = (α−1)/xmin · (x/xmin)^−α above xmin, fitted to n values."""

    alpha: float  # exponent α (MLE at xmin, from powerlaw)
    xmin: float  # lower bound of the power-law tail (Δr_min in the paper)
    ks_distance: float  # KS distance D between the tail's empirical CDF and the fitted CDF
    n_tail: int  # values ≥ xmin
    n: int  # all values
    sigma: float  # standard error of α, (α − 1)/√n_tail (Clauset Eq. 3.2)
    comparisons: dict[str, tuple[float, float]] = field(default_factory=dict)
    # name → (R, p): normalised log-likelihood ratio power law vs name (R > 0 favours the power
    # law) and its significance; empty when not computed
    p_value: float | None = None  # bootstrap goodness of fit (Clauset §4.1); None if not computed
    xmax: float = math.nan  # largest value: the tail spans log10(xmax / xmin) decades
    control: tuple[float, float] | None = None
    # (R, p) of power law vs exponential on a light-tailed control of the same size above the same
    # xmin (Rayleigh draws, :func:`_control`); None when comparisons were not computed

    def ccdf(self, x: np.ndarray) -> np.ndarray:
        """Model P(X ≥ x) of the whole sample, (n_tail/n)·(x/xmin)^(1−α), for x ≥ xmin."""
        x = np.asarray(x, dtype=np.float64)
        return self.n_tail / self.n * (x / self.xmin) ** (1.0 - self.alpha)

    # Judgements, the same everywhere (trial metrics, report, reproduction).

    @property
    def tail_decades(self) -> float:
        """Length of the fitted tail, log10(xmax / xmin): below 0.3 it is less than an octave."""
        return math.log10(self.xmax / self.xmin) if self.xmax > 0 else math.nan

    def preferred(self, significance: float = SIGNIFICANCE) -> list[str]:
        """Alternatives the likelihood ratio significantly prefers over the power law: R < 0 with
        p < ``significance`` (Clauset et al. §5). Empty when no comparison was computed."""
        return [n for n, (r, p) in self.comparisons.items() if r < 0 and p < significance]

    def better_than(self, significance: float = SIGNIFICANCE) -> list[str]:
        """Alternatives the power law is significantly better than (R > 0, p < significance)."""
        return [n for n, (r, p) in self.comparisons.items() if r > 0 and p < significance]

    @property
    def verdict(self) -> str:
        """``heavy``, ``not heavy`` or ``too short to tell`` (see :data:`VERDICT_RULE`)."""
        if not self.comparisons:
            return TOO_SHORT
        if self.alpha > HEAVY_ALPHA_MAX or "exponential" in self.preferred():
            return NOT_HEAVY
        if "exponential" in self.better_than() and self.control_passes is False:
            return HEAVY
        return TOO_SHORT

    @property
    def control_passes(self) -> bool | None:
        """Whether the same test calls the light-tailed control a power law (None: no control)."""
        return None if self.control is None else _beats_exponential(*self.control)

    @property
    def heavy(self) -> bool:
        return self.verdict == HEAVY

    @property
    def power_law_kept(self) -> bool:
        """Heavy, and no alternative significantly better."""
        return self.heavy and not self.preferred()


@contextmanager
def _quiet() -> Iterator[None]:
    """powerlaw warns on every boundary hit and numpy overflow; its results are checked by us."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


class _TruncatedPowerLaw(powerlaw.Truncated_Power_Law):
    """powerlaw's truncated power law without its mpmath-per-point KS distance (unused here)."""

    def compute_distance_metrics(self, data=None):
        self.D = self.D_plus = self.D_minus = self.V = self.Asquare = self.Kappa = math.nan


def exhaustive_xmin(
    x: np.ndarray, *, min_tail: int = 50, alpha_range: tuple[float, float] = (1.0, 20.0)
) -> tuple[float, float, float]:
    """Reference scan: (xmin, α, D) over every admissible distinct value, one candidate at a time.

    O(n²); for checking the fast search of :func:`fit_power_law` on small samples.
    """
    s = Sorted.of(_check_values(x, min_tail))
    idx, alpha = eligible(s, min_tail, alpha_range)
    if idx.size == 0:
        raise ValueError(f"no admissible xmin in x for min_tail={min_tail}, {alpha_range=}.")
    distances = [ks_exact(s, int(i), float(a)) for i, a in zip(idx, alpha, strict=True)]
    k = int(np.argmin(distances))
    return float(s.x[idx[k]]), float(alpha[k]), float(distances[k])


def _check_values(x: object, min_tail: int) -> np.ndarray:
    """x as a flat float64 array of finite positive values, not all equal, at least min_tail."""
    arr = np.asarray(x)
    if arr.size == 0:
        raise ValueError("x must not be empty, but got 0 values.")
    if not (np.issubdtype(arr.dtype, np.number) and not np.iscomplexobj(arr)):
        raise ValueError(f"x must be real numbers, but got dtype={arr.dtype}.")
    arr = arr.astype(np.float64).ravel()
    bad = int((~np.isfinite(arr)).sum())
    if bad:
        raise ValueError(f"x must be finite, but got {bad} NaN/inf values.")
    nonpositive = int((arr <= 0).sum())
    if nonpositive:
        raise ValueError(
            f"x must be > 0 (a power law lives on x > 0), but got {nonpositive} values <= 0."
        )
    if arr.min() == arr.max():
        raise ValueError(f"x must hold at least two distinct values, but all equal {arr[0]!r}.")
    if arr.size < min_tail:
        raise ValueError(f"x must hold at least min_tail={min_tail} values, but got n={arr.size}.")
    return arr


def _check_alpha_range(alpha_range: object) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in alpha_range)  # type: ignore[union-attr]
    except (TypeError, ValueError) as err:
        raise ValueError(f"alpha_range must be two numbers, but got {alpha_range=}.") from err
    if not (math.isfinite(lo) and math.isfinite(hi) and 1.0 <= lo < hi):
        raise ValueError(
            f"alpha_range must be finite with 1 <= low < high (p ∝ x^-α normalisable above "
            f"xmin), but got {alpha_range=}."
        )
    return lo, hi


def _check_xmin(s: Sorted, xmin: object, min_tail: int, alpha_range) -> tuple[int, float, float]:
    """:func:`fixed_fit` of a user's xmin, after checking the tail it leaves and its α."""
    if not (isinstance(xmin, (int, float, np.floating, np.integer)) and math.isfinite(xmin)):
        raise ValueError(f"xmin must be a finite number, but got {xmin=}.")
    if xmin <= 0:
        raise ValueError(f"xmin must be > 0, but got {xmin=}.")
    n_tail = s.n - int(np.searchsorted(s.x, xmin, side="left"))
    if n_tail < min_tail:
        raise ValueError(
            f"x must hold at least min_tail={min_tail} values >= xmin, but got {n_tail} values "
            f">= {xmin=}."
        )
    i, alpha, ks = fixed_fit(s, float(xmin))
    if not alpha_range[0] < alpha < alpha_range[1]:
        raise ValueError(
            f"the MLE alpha above {xmin=} must lie inside {alpha_range=}, but got alpha={alpha}."
        )
    return i, alpha, ks


def _synthetic_ks(data: np.ndarray, xmin: float | None, scan: dict) -> float:
    """KS distance of the best fit to a synthetic set: same xmin search, or the fixed xmin."""
    s = Sorted.of(data)
    try:
        if xmin is None:
            return scan_xmin(s, **scan)[2]
        if s.n - np.searchsorted(s.x, xmin, side="left") < scan["min_tail"]:
            return math.inf
        return fixed_fit(s, xmin)[2]
    except ValueError:  # no admissible power law at all: a worse fit than the data's
        return math.inf


def _bootstrap_p(
    s: Sorted,
    i: int,
    xmin: float,
    alpha: float,
    ks: float,
    *,
    n_boot: int,
    rng: np.random.Generator,
    fixed_xmin: bool,
    scan: dict,
) -> float:
    """Clauset §4.1: fraction of semi-parametric synthetic sets fitting worse than the data.

    Each synthetic set has n values: with probability n_tail/n one drawn from the fitted power law,
    otherwise one of the observed values below xmin; it is fitted like the data (same xmin search,
    or the same fixed xmin).
    """
    n, body = s.n, s.x[:i]
    worse = 0
    for _ in range(n_boot):
        n_tail = rng.binomial(n, (n - i) / n)
        tail = xmin * (1.0 - rng.random(n_tail)) ** (-1.0 / (alpha - 1.0))  # inverse CDF
        data = np.concatenate([rng.choice(body, n - n_tail) if n_tail < n else body[:0], tail])
        worse += _synthetic_ks(data, xmin if fixed_xmin else None, scan) >= ks
    return worse / n_boot


def _comparisons(
    fit: powerlaw.Fit, tail: np.ndarray, xmin: float, alpha_range, compare_max: int, rng
) -> dict[str, tuple[float, float]]:
    """(R, p) of power law vs each of COMPARED, normalised ratio (Clauset §5, Vuong's test)."""
    with _quiet():
        if tail.size > compare_max:
            sub = rng.choice(tail, compare_max, replace=False)
            fit = powerlaw.Fit(sub, xmin=xmin, parameter_ranges={"alpha": alpha_range}, verbose=0)
        # α of a truncated power law may lie below 1; it shares only the upper bound
        ranges = {"alpha": [0.0, alpha_range[1]], "Lambda": [0.0, None]}
        fit.truncated_power_law = _TruncatedPowerLaw(
            data=fit.data, xmin=xmin, parameter_ranges=ranges, parent_Fit=fit, verbose=0
        )
        out = {}
        for name in COMPARED:
            r, p = fit.distribution_compare("power_law", name, normalized_ratio=True)
            out[name] = (float(r), float(p))
    return out


def _control(
    n: int, n_tail: int, xmin: float, alpha_range, compare_max: int, rng
) -> tuple[float, float] | None:
    """(R, p) of power law vs exponential on a light-tailed control: n Rayleigh draws scaled so
    that the expected share above ``xmin`` is the data's (n_tail/n), fitted above the same xmin.
    A test that calls this control a power law cannot tell one from a short light tail."""
    share = min(n_tail / n, 0.999)
    sigma = xmin / math.sqrt(-2.0 * math.log(share))  # P(R ≥ xmin) = exp(−xmin²/2σ²) = share
    draws = sigma * np.sqrt(-2.0 * np.log1p(-rng.random(n)))  # Rayleigh by inverse CDF
    tail = draws[draws >= xmin]
    if tail.size < 2 or np.ptp(tail) == 0:
        return None
    tail = rng.choice(tail, compare_max, replace=False) if tail.size > compare_max else tail
    with _quiet():
        fit = powerlaw.Fit(tail, xmin=xmin, parameter_ranges={"alpha": alpha_range}, verbose=0)
        r, p = fit.distribution_compare("power_law", "exponential", normalized_ratio=True)
    return float(r), float(p)


def fit_power_law(
    x: np.ndarray,
    *,
    xmin: float | None = None,
    min_tail: int = 50,
    n_candidates: int = 1000,
    n_boot: int = 0,
    seed: int | np.random.SeedSequence = 0,
    alpha_range: tuple[float, float] = (1.0, 20.0),
    compare: bool = True,
    compare_max: int = 100_000,
) -> PowerLawFit:
    """Fit p(x) ∝ x^−α above xmin to positive values ``x`` (any shape, flattened).

    ``xmin=None`` chooses xmin by minimal KS distance over candidates leaving at least ``min_tail``
    values above them and an MLE α inside ``alpha_range`` (see module docstring for the search and
    ``n_candidates``). α, its standard error and the comparisons come from ``powerlaw.Fit`` at that
    xmin. ``n_boot > 0`` adds the bootstrap goodness-of-fit p-value (Clauset §4.1; p < 0.1 rules the
    power law out); ``seed`` drives the bootstrap and the comparison subsample. ``compare=False``
    skips the likelihood-ratio comparisons.

    Raises ValueError for empty, non-finite or non-positive input, all-equal values, too few values
    above xmin, or no admissible xmin.
    """
    min_tail = check_int("min_tail", min_tail, 2)
    n_candidates = check_int("n_candidates", n_candidates, 4)
    n_boot = check_int("n_boot", n_boot, 0)
    compare_max = check_int("compare_max", compare_max, min_tail)
    alpha_range = _check_alpha_range(alpha_range)
    s = Sorted.of(_check_values(x, min_tail))
    scan = {"min_tail": min_tail, "n_candidates": n_candidates, "alpha_range": alpha_range}
    if xmin is None:
        i, alpha0, ks0 = scan_xmin(s, **scan)
    else:
        i, alpha0, ks0 = _check_xmin(s, xmin, min_tail, alpha_range)
    tail, chosen = s.x[i:], float(xmin) if xmin is not None else float(s.x[i])
    with _quiet():
        fit = powerlaw.Fit(tail, xmin=chosen, parameter_ranges={"alpha": alpha_range}, verbose=0)
        law = fit.power_law
        alpha, sigma, ks = float(law.alpha), float(law.standard_err), float(law.D)
    if not (math.isfinite(alpha) and math.isfinite(ks)):
        raise ValueError(f"powerlaw could not fit x above xmin={chosen}: alpha={alpha}, D={ks}.")
    rng = np.random.default_rng(seed)
    comparisons, control = {}, None
    if compare:
        comparisons = _comparisons(fit, tail, chosen, list(alpha_range), compare_max, rng)
        control = _control(s.n, int(tail.size), chosen, list(alpha_range), compare_max, rng)
    p_value = None
    if n_boot:
        p_value = _bootstrap_p(
            s,
            i,
            chosen,
            alpha0,
            ks0,
            n_boot=n_boot,
            rng=rng,
            fixed_xmin=xmin is not None,
            scan=scan,
        )
    return PowerLawFit(
        alpha,
        chosen,
        ks,
        int(tail.size),
        s.n,
        sigma,
        comparisons,
        p_value,
        xmax=float(s.x[-1]),
        control=control,
    )
