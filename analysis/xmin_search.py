"""The xmin search of :func:`analysis.fit_power_law`: exact minimum KS distance over candidates,
vectorised with numpy.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Sorted", "scan", "eligible", "ks_exact", "fixed_fit"]

_RANK_RESOLUTION = 2000  # first lower-bound grid: evaluation points ≤ tail rank / this apart
_SURVIVORS = 16  # candidates evaluated exactly once the lower bounds have thinned them
_CHUNK = 2_000_000  # elements per (candidates × evaluation points) block


@dataclass(frozen=True)
class Sorted:
    """Sorted data and the prefix quantities every candidate needs, all (n,)."""

    x: np.ndarray  # ascending
    logx: np.ndarray
    first: np.ndarray  # index of the first value equal to x[j] (ties share the empirical CDF)
    suffix_log: np.ndarray  # Σ_{k ≥ j} ln x_k

    @classmethod
    def of(cls, values: np.ndarray) -> Sorted:
        x = np.sort(values)
        logx = np.log(x)
        suffix = np.cumsum(logx[::-1])[::-1]  # summed from the top: exact for small tails
        return cls(x, logx, np.searchsorted(x, x, side="left"), suffix)

    @property
    def n(self) -> int:
        return self.x.size


def closed_form_alpha(s: Sorted, idx: np.ndarray) -> np.ndarray:
    """α = 1 + m / Σ_{j ≥ i} ln(x_j / x_i) for tails starting at indices ``idx``; inf if degenerate."""
    m = s.n - idx
    denom = s.suffix_log[idx] - m * s.logx[idx]
    with np.errstate(divide="ignore"):
        return np.where(denom > 0, 1.0 + m / np.where(denom > 0, denom, 1.0), np.inf)


def ks_on(s: Sorted, idx: np.ndarray, alpha: np.ndarray, cols: np.ndarray) -> np.ndarray:
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


def ks_exact(s: Sorted, i: int, alpha: float) -> float:
    return float(ks_on(s, np.array([i]), np.array([alpha]), np.arange(i, s.n))[0])


def rank_grid(n: int, resolution: int) -> np.ndarray:
    """Indices n − r for tail ranks r = 1..n: every r ≤ resolution, geometric above (ratio 1 + 1/R).

    A candidate with m tail values then sees evaluation points at most ~m/R ranks apart, so its
    lower bound is within ~1/R of its exact KS distance.
    """
    num = int(math.ceil(math.log(max(n, 2)) / math.log1p(1.0 / resolution))) + 1
    ranks = np.unique(np.rint(np.geomspace(1, n, min(num, 10 * n))).astype(np.int64))
    return n - ranks


def branch_and_bound(s: Sorted, idx: np.ndarray, alpha: np.ndarray) -> tuple[int, float, float]:
    """Exact argmin of the KS distance over candidates ``idx`` (ascending): (index, α, D).

    Lower bounds on ever finer grids discard candidates that cannot beat the best exact distance
    found so far; the few survivors are evaluated exactly in order of their bound.
    """
    resolution = _RANK_RESOLUTION
    while True:
        cols = np.union1d(idx, rank_grid(s.n, resolution))
        if cols.size >= s.n // 2:  # as cheap to be exact everywhere
            exact = ks_on(s, idx, alpha, np.arange(s.n))
            k = int(np.argmin(exact))  # first minimum: the smallest xmin on ties
            return int(idx[k]), float(alpha[k]), float(exact[k])
        lower = ks_on(s, idx, alpha, cols)
        k = int(np.argmin(lower))
        incumbent = ks_exact(s, int(idx[k]), float(alpha[k]))
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
        d = ks_exact(s, int(idx[k]), float(alpha[k]))
        if d < best[2] or (d == best[2] and idx[k] < best[0]):
            best = (int(idx[k]), float(alpha[k]), d)
    return best


def eligible(s: Sorted, min_tail: int, alpha_range: tuple[float, float]):
    """First index of every distinct value with ≥ min_tail values above and α inside alpha_range."""
    starts = np.flatnonzero(np.r_[True, s.x[1:] != s.x[:-1]])
    starts = starts[s.n - starts >= min_tail]
    alpha = closed_form_alpha(s, starts)
    ok = (alpha > alpha_range[0]) & (alpha < alpha_range[1])
    return starts[ok], alpha[ok]


def grid(count: int, tails: np.ndarray, n_candidates: int) -> np.ndarray:
    """Positions into eligible candidates: half even in rank, half geometric in tail size."""
    half = max(n_candidates // 2, 2)
    even = np.rint(np.linspace(0, count - 1, half)).astype(np.int64)
    sizes = np.geomspace(tails.min(), tails.max(), half)
    # tails are descending in position; search on the reversed (ascending) array
    geometric = count - 1 - np.clip(np.searchsorted(tails[::-1], sizes), 0, count - 1)
    return np.unique(np.concatenate([even, geometric]))


def scan(
    s: Sorted, *, min_tail: int, n_candidates: int, alpha_range: tuple[float, float]
) -> tuple[int, float, float]:
    """Index of xmin in the sorted data, its closed-form α and KS distance."""
    idx, alpha = eligible(s, min_tail, alpha_range)
    if idx.size == 0:
        raise ValueError(
            f"no candidate xmin leaves at least min_tail={min_tail} values with an MLE alpha inside "
            f"alpha_range={alpha_range}; widen alpha_range or lower min_tail."
        )
    if idx.size > n_candidates:
        pos = grid(idx.size, s.n - idx, n_candidates)
        idx, alpha = idx[pos], alpha[pos]
    return branch_and_bound(s, idx, alpha)


def fixed_fit(s: Sorted, xmin: float) -> tuple[int, float, float]:
    """(index of the first value ≥ xmin, closed-form α, exact D) for a given xmin."""
    i = int(np.searchsorted(s.x, xmin, side="left"))
    log_ratio = s.logx[i:] - math.log(xmin)  # (m,)
    total = float(log_ratio.sum())
    if total <= 0:
        return i, math.inf, math.inf
    alpha = 1.0 + log_ratio.size / total
    gap = np.abs(-np.expm1((1.0 - alpha) * log_ratio) - (s.first[i:] - i) / log_ratio.size)
    return i, alpha, float(gap.max())
