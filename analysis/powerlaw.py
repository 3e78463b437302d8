"""Continuous power-law fits p(x) ∝ x^−α for x ≥ xmin (Clauset, Shalizi & Newman 2009).

The paper fits the distribution of atomic displacement magnitudes Δr (Fig. 4g-1, Fig. 5, Note S3)
with the maximum-likelihood method and goodness-of-fit tests of its refs. 52–53 (Clauset et al.,
and the ``powerlaw`` package): α is the MLE above a lower bound xmin (the paper's Δr_min), and xmin
is the candidate that minimises the Kolmogorov–Smirnov distance between the tail data and the fit.

Why the xmin search is our own: ``powerlaw.Fit`` without ``xmin`` builds and fits one distribution
object per distinct value, O(n²) in time. Measured on this project's 2-core machines: 5,000 values
take ~3 s and 10⁴ values up to ~45 s, so the paper's 3200 realisations × 256 atoms = 819,200 values
would take a day or more. :func:`fit_power_law` scans the candidates itself, vectorised with numpy
(819,200 values: ~0.4 s for xmin and α, ~1.3 s with the comparisons; benchmarks/powerlaw_fit.py):

* α(xmin) is in closed form, α = 1 + n_tail / Σ ln(x_i / xmin) (Clauset Eq. 3.1), from suffix sums
  of ln x over the sorted data;
* the KS distance of every candidate is first bounded from below, all candidates at once, by its
  maximum over a sub-grid of evaluation points (every rank up to R from the top, geometric in rank
  above, so a tail of m values is seen every ~m/R points); candidates whose bound exceeds the exact
  distance of the most promising one are dropped, the grid is refined (R × 8) while many remain,
  and the survivors are evaluated exactly in order of their bound (branch and bound). The result is
  the exact minimum over the candidates, at a small fraction of the O(n·n_candidates) cost;
* candidates are all distinct values leaving at least ``min_tail`` points in the tail (and an MLE α
  inside ``alpha_range``) when there are at most ``n_candidates`` of them, otherwise a grid of
  ``n_candidates`` of them, half evenly spaced in rank (quantiles), half geometric in tail size.
  The KS distance varies by ~1/√n_tail between neighbouring candidates by chance alone, so a grid
  of 1000 loses nothing measurable; the search is exact over the candidates it is given.

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
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import powerlaw

from physics.checks import check_int

__all__ = ["PowerLawFit", "fit_power_law", "exhaustive_xmin", "SIGNIFICANCE", "HEAVY_ALPHA_MAX"]

COMPARED = ("lognormal", "exponential", "truncated_power_law")
SIGNIFICANCE = 0.1  # p of the likelihood-ratio comparisons (Clauset et al.)
HEAVY_ALPHA_MAX = 6.0  # steeper tails are indistinguishable from bounded (seed-like) ones here
_RANK_RESOLUTION = 2000  # first lower-bound grid: evaluation points ≤ tail rank / this apart
_SURVIVORS = 16  # candidates evaluated exactly once the lower bounds have thinned them
_CHUNK = 2_000_000  # elements per (candidates × evaluation points) block


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

    def ccdf(self, x: np.ndarray) -> np.ndarray:
        """Model P(X ≥ x) of the whole sample, (n_tail/n)·(x/xmin)^(1−α), for x ≥ xmin."""
        x = np.asarray(x, dtype=np.float64)
        return self.n_tail / self.n * (x / self.xmin) ** (1.0 - self.alpha)

    # Judgements, the same everywhere (trial metrics, report, reproduction).

    def preferred(self, significance: float = SIGNIFICANCE) -> list[str]:
        """Alternatives the likelihood ratio significantly prefers over the power law: R < 0 with
        p < ``significance`` (Clauset et al. §5). Empty when no comparison was computed."""
        return [n for n, (r, p) in self.comparisons.items() if r < 0 and p < significance]

    def better_than(self, significance: float = SIGNIFICANCE) -> list[str]:
        """Alternatives the power law is significantly better than (R > 0, p < significance)."""
        return [n for n, (r, p) in self.comparisons.items() if r > 0 and p < significance]

    @property
    def heavy(self) -> bool:
        """α ≤ :data:`HEAVY_ALPHA_MAX` and the exponential not preferred."""
        return self.alpha <= HEAVY_ALPHA_MAX and "exponential" not in self.preferred()

    @property
    def power_law_kept(self) -> bool:
        """Heavy, and no alternative significantly better."""
        return self.heavy and not self.preferred()


@dataclass(frozen=True)
class _Sorted:
    """Sorted data and the prefix quantities every candidate needs, all (n,)."""

    x: np.ndarray  # ascending
    logx: np.ndarray
    first: np.ndarray  # index of the first value equal to x[j] (ties share the empirical CDF)
    suffix_log: np.ndarray  # Σ_{k ≥ j} ln x_k

    @classmethod
    def of(cls, values: np.ndarray) -> _Sorted:
        x = np.sort(values)
        logx = np.log(x)
        suffix = np.cumsum(logx[::-1])[::-1]  # summed from the top: exact for small tails
        return cls(x, logx, np.searchsorted(x, x, side="left"), suffix)

    @property
    def n(self) -> int:
        return self.x.size


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


def _closed_form_alpha(s: _Sorted, idx: np.ndarray) -> np.ndarray:
    """α = 1 + m / Σ_{j ≥ i} ln(x_j / x_i) for tails starting at indices ``idx``; inf if degenerate."""
    m = s.n - idx
    denom = s.suffix_log[idx] - m * s.logx[idx]
    with np.errstate(divide="ignore"):
        return np.where(denom > 0, 1.0 + m / np.where(denom > 0, denom, 1.0), np.inf)


def _ks_on(s: _Sorted, idx: np.ndarray, alpha: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """max over evaluation points ``cols`` in each tail of |P_fit − S_data|, for candidates (K,).

    A lower bound of the KS distance; exact when ``cols`` holds every index of the tail.
    """
    out = np.empty(idx.size)
    step = max(1, _CHUNK // max(cols.size, 1))
    lx, first = s.logx[cols][None], s.first[cols][None]  # (1, C)
    for start in range(0, idx.size, step):
        i = idx[start : start + step, None]  # (k, 1)
        a = alpha[start : start + step, None]
        z = np.minimum((1.0 - a) * (lx - s.logx[i]), 0.0)  # ln (x/xmin)^(1−α), (k, C)
        gap = np.abs(-np.expm1(z) - (first - i) / (s.n - i))
        out[start : start + step] = np.where(cols[None] >= i, gap, 0.0).max(axis=1)
    return out


def _ks_exact(s: _Sorted, i: int, alpha: float) -> float:
    return float(_ks_on(s, np.array([i]), np.array([alpha]), np.arange(i, s.n))[0])


def _rank_grid(n: int, resolution: int) -> np.ndarray:
    """Indices n − r for tail ranks r = 1..n: every r ≤ resolution, geometric above (ratio 1 + 1/R).

    A candidate with m tail values then sees evaluation points at most ~m/R ranks apart, so its
    lower bound is within ~1/R of its exact KS distance.
    """
    num = int(math.ceil(math.log(max(n, 2)) / math.log1p(1.0 / resolution))) + 1
    ranks = np.unique(np.rint(np.geomspace(1, n, min(num, 10 * n))).astype(np.int64))
    return n - ranks


def _search(s: _Sorted, idx: np.ndarray, alpha: np.ndarray) -> tuple[int, float, float]:
    """Exact argmin of the KS distance over candidates ``idx`` (ascending): (index, α, D).

    Lower bounds on ever finer grids discard candidates that cannot beat the best exact distance
    found so far; the few survivors are evaluated exactly in order of their bound.
    """
    resolution = _RANK_RESOLUTION
    while True:
        cols = np.union1d(idx, _rank_grid(s.n, resolution))
        if cols.size >= s.n // 2:  # as cheap to be exact everywhere
            exact = _ks_on(s, idx, alpha, np.arange(s.n))
            k = int(np.argmin(exact))  # first minimum: the smallest xmin on ties
            return int(idx[k]), float(alpha[k]), float(exact[k])
        lower = _ks_on(s, idx, alpha, cols)
        k = int(np.argmin(lower))
        incumbent = _ks_exact(s, int(idx[k]), float(alpha[k]))
        alive = lower < incumbent
        alive[k] = True
        idx, alpha, lower = idx[alive], alpha[alive], lower[alive]
        if idx.size <= _SURVIVORS:
            break
        resolution *= 8
    best = (-1, math.nan, math.inf)
    for k in np.argsort(lower, kind="stable"):
        if lower[k] > best[2]:
            break
        d = _ks_exact(s, int(idx[k]), float(alpha[k]))
        if d < best[2] or (d == best[2] and idx[k] < best[0]):
            best = (int(idx[k]), float(alpha[k]), d)
    return best


def _eligible(s: _Sorted, min_tail: int, alpha_range: tuple[float, float]):
    """First index of every distinct value with ≥ min_tail values above and α inside alpha_range."""
    starts = np.flatnonzero(np.r_[True, s.x[1:] != s.x[:-1]])
    starts = starts[s.n - starts >= min_tail]
    alpha = _closed_form_alpha(s, starts)
    ok = (alpha > alpha_range[0]) & (alpha < alpha_range[1])
    return starts[ok], alpha[ok]


def _grid(count: int, tails: np.ndarray, n_candidates: int) -> np.ndarray:
    """Positions into eligible candidates: half even in rank, half geometric in tail size."""
    half = max(n_candidates // 2, 2)
    even = np.rint(np.linspace(0, count - 1, half)).astype(np.int64)
    sizes = np.geomspace(tails.min(), tails.max(), half)
    # tails are descending in position; search on the reversed (ascending) array
    geometric = count - 1 - np.clip(np.searchsorted(tails[::-1], sizes), 0, count - 1)
    return np.unique(np.concatenate([even, geometric]))


def _scan(
    s: _Sorted, *, min_tail: int, n_candidates: int, alpha_range: tuple[float, float]
) -> tuple[int, float, float]:
    """Index of xmin in the sorted data, its closed-form α and KS distance."""
    idx, alpha = _eligible(s, min_tail, alpha_range)
    if idx.size == 0:
        raise ValueError(
            f"no candidate xmin leaves at least min_tail={min_tail} values with an MLE alpha inside "
            f"alpha_range={alpha_range}; widen alpha_range or lower min_tail."
        )
    if idx.size > n_candidates:
        pos = _grid(idx.size, s.n - idx, n_candidates)
        idx, alpha = idx[pos], alpha[pos]
    return _search(s, idx, alpha)


def exhaustive_xmin(
    x: np.ndarray, *, min_tail: int = 50, alpha_range: tuple[float, float] = (1.0, 20.0)
) -> tuple[float, float, float]:
    """Reference scan: (xmin, α, D) over every admissible distinct value, one candidate at a time.

    O(n²); for checking the fast search of :func:`fit_power_law` on small samples.
    """
    s = _Sorted.of(_check_values(x, min_tail))
    idx, alpha = _eligible(s, min_tail, alpha_range)
    if idx.size == 0:
        raise ValueError(f"no admissible xmin in x for min_tail={min_tail}, {alpha_range=}.")
    distances = [_ks_exact(s, int(i), float(a)) for i, a in zip(idx, alpha, strict=True)]
    k = int(np.argmin(distances))
    return float(s.x[idx[k]]), float(alpha[k]), float(distances[k])


def _check_int(name: str, value: object, low: int) -> int:
    return check_int(name, value, low)


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


def _fixed_fit(s: _Sorted, xmin: float) -> tuple[int, float, float]:
    """(index of the first value ≥ xmin, closed-form α, exact D) for a given xmin."""
    i = int(np.searchsorted(s.x, xmin, side="left"))
    log_ratio = s.logx[i:] - math.log(xmin)  # (m,)
    total = float(log_ratio.sum())
    if total <= 0:
        return i, math.inf, math.inf
    alpha = 1.0 + log_ratio.size / total
    gap = np.abs(-np.expm1((1.0 - alpha) * log_ratio) - (s.first[i:] - i) / log_ratio.size)
    return i, alpha, float(gap.max())


def _check_xmin(s: _Sorted, xmin: object, min_tail: int, alpha_range) -> tuple[int, float, float]:
    """:func:`_fixed_fit` of a user's xmin, after checking the tail it leaves and its α."""
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
    i, alpha, ks = _fixed_fit(s, float(xmin))
    if not alpha_range[0] < alpha < alpha_range[1]:
        raise ValueError(
            f"the MLE alpha above {xmin=} must lie inside {alpha_range=}, but got alpha={alpha}."
        )
    return i, alpha, ks


def _synthetic_ks(data: np.ndarray, xmin: float | None, scan: dict) -> float:
    """KS distance of the best fit to a synthetic set: same xmin search, or the fixed xmin."""
    s = _Sorted.of(data)
    try:
        if xmin is None:
            return _scan(s, **scan)[2]
        if s.n - np.searchsorted(s.x, xmin, side="left") < scan["min_tail"]:
            return math.inf
        return _fixed_fit(s, xmin)[2]
    except ValueError:  # no admissible power law at all: a worse fit than the data's
        return math.inf


def _bootstrap_p(
    s: _Sorted,
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
    min_tail = _check_int("min_tail", min_tail, 2)
    n_candidates = _check_int("n_candidates", n_candidates, 4)
    n_boot = _check_int("n_boot", n_boot, 0)
    compare_max = _check_int("compare_max", compare_max, min_tail)
    alpha_range = _check_alpha_range(alpha_range)
    s = _Sorted.of(_check_values(x, min_tail))
    scan = {"min_tail": min_tail, "n_candidates": n_candidates, "alpha_range": alpha_range}
    if xmin is None:
        i, alpha0, ks0 = _scan(s, **scan)
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
    comparisons = (
        _comparisons(fit, tail, chosen, list(alpha_range), compare_max, rng) if compare else {}
    )
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
    return PowerLawFit(alpha, chosen, ks, int(tail.size), s.n, sigma, comparisons, p_value)
