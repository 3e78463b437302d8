"""The reproduction over trial seeds: each claim's value as the mean over seeds with its interval,
and a verdict decided by the interval (``scalefree reproduce --seeds K``).

One configuration's α spans 2.4–9.5 over seeds, so a verdict on one draw is an anecdote. With K
seeds every run of the protocol is trained K times (trial seeds ``trial.seed`` … ``+ K − 1``), each
seed's claims are measured as before (:func:`study.reproduce.claims.build_rows`), and each claim
becomes one row here:

* a **number claim** (:class:`Target`) takes its per-seed values of one measured number; its
  interval is the study's interval over seeds (:func:`analysis.seed_interval`: t, on log(x − 1) for
  an exponent, whose seeds are skewed);
* a **comparison claim** (1-pool against 3-pool, high- against low-accuracy subsets, generated
  against seeds' exponent, generated against seeds' hub Gini) takes the difference of two groups
  of per-seed values, with Welch's interval (:func:`analysis.difference_interval`, each seed its
  own unit), like a study's level differences;
* a **tally claim** (bands, the seeds' tail) has no one number: its seeds' own verdicts decide.

The verdict rules, each a pure function tested on constructed intervals
(tests/study/test_reproduce_seeds.py):

* :func:`by_interval`: the claim's acceptance band is the paper's value ± its tolerance (open on
  the side a one-sided claim does not mind: an accuracy at least the paper's, a gain of at least
  100). *Not reproduced* when the interval lies wholly outside the band (it excludes the paper's
  value by more than the tolerance); *reproduced* when it lies wholly inside; *too few seeds to
  tell* when it reaches across the band's edge, or cannot be made (one seed). Stricter than
  "the paper's value lies inside the interval": two seeds give t(0.975, 1) = 12.7, and an
  interval that holds both the paper's value and a clear miss supports neither.
* :func:`with_condition`: a claim that also needs a heavy tail (counted in a seed only when the tail
  is not mostly beyond the training range) is *partly* when the number and the condition disagree;
  the condition holds when most seeds meet it.
* :func:`tally`: *reproduced* when every seed reproduced, *not reproduced* when none did even
  partly, else *partly*.

K = 1 keeps the single-seed table exactly as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from study.reproduce.paper import (
    ACCURACY_TOLERANCE,
    ALPHA_TOLERANCE,
    GINI_MARGIN,
    LINK_MIN_RHO,
    PAPER_ALPHA,
    PAPER_ALPHA_1POOL,
    PAPER_D2L,
    PAPER_L2D2L,
    PAPER_VALIDATED,
    SPECTRA_FACTOR,
    VERDICTS,
)
from study.reproduce.table import Finding, Row, num, pct

__all__ = [
    "Target",
    "TARGETS",
    "TOO_FEW_SEEDS",
    "SEED_VERDICTS",
    "by_interval",
    "acceptance",
    "with_condition",
    "tally",
    "combine",
]

YES, PARTLY, NO = VERDICTS
TOO_FEW_SEEDS = "too few seeds to tell"
SEED_VERDICTS = (*VERDICTS, TOO_FEW_SEEDS)


@dataclass(frozen=True)
class Target:
    """How one claim is decided over seeds."""

    metric: str  # the per-seed number (a key of the row's Finding.metrics)
    paper: float
    tolerance: float
    side: str = "both"  # both | above (at least paper − tolerance) | below (at most paper + tol.)
    lower: float | None = None  # the number's bound (an exponent > 1): interval on log(x − lower)
    other: str = ""  # a comparison: the difference metric − other, Welch over seeds
    condition: str = ""  # a per-seed 0/1 metric most seeds must meet (a heavy tail inside range)
    label: str = ""  # how the row names the number
    # Read beside the verdict over seeds, deciding nothing: (metric, label, bound) numbers shown
    # with their interval, and 0/1 metrics shown as a count of seeds.
    also: tuple[tuple[str, str, float | None], ...] = ()
    counts: tuple[tuple[str, str], ...] = ()

    def text(self) -> str:
        what = self.label or (f"{self.metric} − {self.other}" if self.other else self.metric)
        if self.side == "above":
            band = f"≥ {num(self.paper - self.tolerance)}"
        elif self.side == "below":
            band = f"≤ {num(self.paper + self.tolerance)}"
        else:
            band = f"{num(self.paper)} ± {self.tolerance:g}"
        rule = (
            f"reproduced if the interval of {what} lies inside {band}, not reproduced if wholly "
            "outside, too few seeds to tell if across its edge"
        )
        if self.other:
            rule += " (Welch over seeds)"
        if self.condition:
            rule += f"; partly if that and {CONDITIONS[self.condition]} in most seeds disagree"
        return rule


CONDITIONS = {  # what a per-seed condition of a claim means
    "heavy_band": "a heavy tail not mostly beyond the training range",
    "weight_heavy": "a heavy W_j with no alternative preferred",
    "subsets_heavy": "both subsets heavy",
    "one_pool_heavy": "both tails heavy and not mostly beyond the training range",
}
# Claims decided by a number over seeds; the others (bands, seeds) by their seeds' verdicts.
TARGETS = {
    "d2l": Target("d2l_accuracy", PAPER_D2L, ACCURACY_TOLERANCE, "above"),
    "l2d2l": Target("l2d2l_accuracy", PAPER_L2D2L, ACCURACY_TOLERANCE, "above"),
    "validated": Target("validated_accuracy", PAPER_VALIDATED, ACCURACY_TOLERANCE, "above"),
    "alpha": Target(
        "alpha_band",
        PAPER_ALPHA,
        ALPHA_TOLERANCE,
        lower=1.0,
        condition="heavy_band",
        label="α",
        also=(
            ("alpha_hill", "α_hill (top 1 %)", 1.0),
            ("tail_xi", "ξ", None),
            ("tail_out_of_range_band", "tail beyond the training range", None),
        ),
        counts=(("heavy_band", "heavy inside the training range"),),
    ),
    "realisations": Target(
        "realisations_gap", 0.0, ALPHA_TOLERANCE, "below", label="|α(10) − α(all)|"
    ),
    "weights": Target(
        "weight_dr_spearman", LINK_MIN_RHO, 0.0, "above", condition="weight_heavy", label="ρ"
    ),
    "subsets": Target(
        "alpha_high_accuracy",
        0.0,
        ALPHA_TOLERANCE,
        other="alpha_low_accuracy",
        condition="subsets_heavy",
        label="α_high − α_low",
    ),
    "robustness": Target("robustness_log10_gain", 2.0, 0.0, "above", label="log10 gain"),
    "hubs": Target(
        "hub_gini", GINI_MARGIN, 0.0, "above", other="hub_gini_seed", label="Gini − Gini(seeds)"
    ),
    "spectra": Target(
        "spectra_ratio", SPECTRA_FACTOR, 0.0, "above", lower=0.0, label="shift ratio"
    ),
    "one_pool": Target(
        "alpha_1pool",
        PAPER_ALPHA_1POOL - PAPER_ALPHA,
        ALPHA_TOLERANCE,
        other="alpha_3pool",
        condition="one_pool_heavy",
        label="α₁ − α₃",
        also=(
            ("alpha_hill_1pool", "1-pool α_hill (top 1 %)", 1.0),
            ("alpha_hill_3pool", "3-pool α_hill", 1.0),
            ("tail_xi_1pool", "1-pool ξ", None),
            ("tail_xi_3pool", "3-pool ξ", None),
            ("off_range_1pool", "1-pool tail beyond the training range", None),
        ),
        counts=(
            ("heavy_1pool", "1-pool heavy inside the training range"),
            ("heavy_3pool", "3-pool heavy inside the training range"),
        ),
    ),
}
TALLIED = ("bands", "seeds")
SHARES = ("tail_out_of_range_band", "off_range_1pool")  # shown in %


def acceptance(target: Target) -> tuple[float, float]:
    """The values that reproduce the claim: the paper's ± its tolerance, open on the side a
    one-sided claim does not mind (an accuracy above the paper's is no miss)."""
    low, high = target.paper - target.tolerance, target.paper + target.tolerance
    if target.side == "above":
        return low, math.inf
    if target.side == "below":
        return -math.inf, high
    return low, high


def by_interval(interval, target: Target) -> str:
    """The verdict of an interval over seeds against the claim's acceptance band
    (:func:`acceptance`): *not reproduced* when the interval lies wholly outside it (it excludes
    the paper's value by more than the tolerance), *reproduced* when it lies wholly inside, *too
    few seeds to tell* when it reaches both sides of the band's edge or cannot be made."""
    if not interval.made:
        return TOO_FEW_SEEDS
    low, high = acceptance(target)
    if interval.high < low or interval.low > high:
        return NO
    if low <= interval.low and interval.high <= high:
        return YES
    return TOO_FEW_SEEDS


def with_condition(number: str, condition: bool | None) -> str:
    """A number's verdict with a condition most seeds must meet (None: the claim has none)."""
    if condition is None or number == TOO_FEW_SEEDS:
        return number
    if number == YES:
        return YES if condition else PARTLY
    return PARTLY if condition else NO


def tally(verdicts: list[str]) -> str:
    """Every seed reproduced: reproduced; none even partly: not reproduced; else partly."""
    if not verdicts:
        return TOO_FEW_SEEDS
    if all(v == YES for v in verdicts):
        return YES
    if all(v == NO for v in verdicts):
        return NO
    return PARTLY


def _values(rows: list[Row], key: str) -> list[float]:
    return [float(r.metrics.get(key, math.nan)) for r in rows]


def _decide(rows: list[Row], target: Target):
    """(mean or difference, its Interval, verdict, the per-seed values shown)."""
    from analysis.uncertainty import difference_interval

    values = _values(rows, target.metric)
    if target.other:
        others = _values(rows, target.other)
        estimate, interval = difference_interval(
            [[v] for v in values if math.isfinite(v)], [[v] for v in others if math.isfinite(v)]
        )
        shown = [a - b for a, b in zip(values, others, strict=True)]
    else:
        estimate, interval = mean_interval(values, target.lower)
        shown = values
    verdict = by_interval(interval, target)
    if target.condition:
        met = _values(rows, target.condition)
        verdict = with_condition(verdict, sum(v >= 1 for v in met) > len(met) / 2)
    return estimate, interval, verdict, shown


def mean_interval(values, lower: float | None = None):
    """(mean of the finite per-seed ``values``, the study's interval over them:
    :func:`analysis.seed_interval`, on log(x − ``lower``) when given)."""
    from analysis.uncertainty import seed_interval

    x = np.array([v for v in values if math.isfinite(v)], dtype=float)
    return (float(x.mean()) if x.size else math.nan), seed_interval(x, lower=lower)


def _beside(rows: list[Row], target: Target) -> str:
    """The readings a claim shows beside its verdict over seeds: each number's mean with its
    interval and every seed's value, each condition as a count of seeds."""

    parts = []
    for metric, label, lower in target.also:
        values = _values(rows, metric)
        mean, interval = mean_interval(values, lower)
        if not math.isfinite(mean):
            continue
        show, low, high = num, interval.low, interval.high
        if metric in SHARES:  # a share: in %, its interval inside [0, 1]
            show, low, high = pct, max(low, 0.0), min(high, 1.0)
        span = f" [{show(low)}, {show(high)}]" if interval.made else ""
        parts.append(f"{label} {show(mean)}{span} (seeds: {', '.join(show(v) for v in values)})")
    for metric, label in target.counts:
        met = _values(rows, metric)
        parts.append(f"{label} in {sum(v >= 1 for v in met)}/{len(met)} seeds")
    return "".join(f"; {p}" for p in parts)


def combine(per_seed: dict[int, list[Row]], claim_keys: list[str]) -> list[Row]:
    """One row per claim over the seeds' rows (seed → the rows of :func:`build_rows`, in the order
    of ``claim_keys``); one seed: its rows as they are."""
    if len(per_seed) == 1:
        return next(iter(per_seed.values()))
    seeds = sorted(per_seed)
    out = []
    for k, key in enumerate(claim_keys):
        rows = [per_seed[s][k] for s in seeds]
        first = rows[0]
        verdicts = [r.verdict for r in rows]
        each = ", ".join(f"seed {s}: {r.verdict}" for s, r in zip(seeds, rows, strict=True))
        if key in TARGETS:
            target = TARGETS[key]
            estimate, interval, verdict, shown = _decide(rows, target)
            name = target.label or target.metric
            span = f"[{num(interval.low)}, {num(interval.high)}]" if interval.made else "[—]"
            measured = (
                f"{name} {num(estimate)} {span} over {len(seeds)} seeds (seeds: "
                f"{', '.join(num(v) for v in shown)}); per seed: {each}"
            )
            measured += _beside(rows, target)
            rule = f"{target.text()} ({first.rule} in each seed)"
            metrics = {
                f"{target.metric}_mean": estimate,
                f"{target.metric}_lo": interval.low,
                f"{target.metric}_hi": interval.high,
            }
        else:
            verdict = tally(verdicts)
            measured = f"per seed: {each}; seed {seeds[0]}: {first.measured}"
            rule = f"every seed reproduced: reproduced; none even partly: not reproduced ({first.rule} in each seed)"
            metrics = {}
        finding = Finding(
            first.paper,
            measured,
            first.others,
            first.baselines,
            verdict,
            "; ".join(  # a row's why explains a miss: a seed that reproduced says so
                f"seed {s}: {r.why if r.verdict != YES else 'reproduced'}"
                for s, r in zip(seeds, rows, strict=True)
            ),
            metrics
            | {
                f"seed{s}/{m}": v
                for s, r in zip(seeds, rows, strict=True)
                for m, v in r.metrics.items()
            },
        )
        out.append(Row(first.claim, rule, finding))
    return out
