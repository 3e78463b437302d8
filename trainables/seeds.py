"""One configuration over several trial seeds: the seeds' final metrics combined into the
configuration's numbers, each with its spread.

A trial seed drives every random choice of a trial (weights, batches, dropout, attacks); the same
architecture gives α 6.2, 8.7 or 16.9 depending on it alone. So a configuration run with K seeds
reports, for every numeric final metric, the mean over its seeds under the metric's own name (what
Optuna optimises and the report compares), every seed's own value as ``seed<s>/<metric>``, and for
the metrics a study reads (:data:`SUMMARISED`) the standard error over seeds (``<metric>_se``) and
the 95 % t interval over seeds (``<metric>_lo``/``_hi``; for the metrics bounded below,
:data:`BOUNDS`, on log(value − bound), so that α's interval stays above 1; cut at the bound for
:data:`FLOORS`: see
:func:`analysis.seed_interval`). One seed is reported as it is: there the
``alpha_lo``/``_hi`` and ``robustness_gain_lo``/``_hi`` of :mod:`trainables.score` are bootstrap
intervals over structures and attacked pairs, which show sampling noise but not seed noise.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

__all__ = ["SUMMARISED", "BOUNDS", "FLOORS", "seed_prefix", "summarise", "combine"]

INTERVAL = ("compute_start", "compute_end")  # the configuration's, not a metric per seed

# Metrics that get a standard error and an interval over seeds (the ones a study compares).
SUMMARISED = (
    "d2l_accuracy",
    "l2d2l_accuracy",
    "validated_accuracy",
    "d2l_skill",
    "validated_skill",
    "alpha",
    "alpha_error",
    "alpha_hill",
    "tail_xi",
    "alpha_hill_inside",
    "tail_xi_inside",
    "tail_decades",
    "weight_alpha",
    "robustness_gain",
    "hub_gini",
)

# Lower bounds of the summarised metrics that have one: their interval is made on log(x − bound).
BOUNDS = {
    "alpha": 1.0,  # a normalisable power-law density needs α > 1
    "weight_alpha": 1.0,
    "alpha_hill": 1.0,  # 1 + 1/γ with γ > 0
    "alpha_hill_inside": 1.0,
    "tail_decades": 0.0,
    "robustness_gain": 0.0,
}
# Bounded, but its values sit near the bound (|α − target| of a good trial is near 0), where a log
# interval's upper end blows up: the plain t interval, cut at the bound.
FLOORS = {"alpha_error": 0.0}


def summarise(key: str, values) -> dict[str, float]:
    """``<key>_se``, ``<key>_lo``, ``<key>_hi`` of one metric's per-seed values (NaN ones left
    out): the standard error of the mean and the 95 % interval over seeds."""
    from analysis.uncertainty import seed_interval

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if key in FLOORS:
        interval = seed_interval(x, lower=FLOORS[key], log=False)
    else:
        interval = seed_interval(x, lower=BOUNDS.get(key))
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
    return {f"{key}_se": se, f"{key}_lo": interval.low, f"{key}_hi": interval.high}


def seed_prefix(seed: int, n_seeds: int) -> str:
    """Name prefix of one seed's metrics and files in a configuration's run ('' for one seed)."""
    return f"seed{seed}/" if n_seeds > 1 else ""


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _verdicts(per_seed: dict[int, dict]) -> str:
    counts = Counter(m.get("alpha_verdict") or "no fit" for m in per_seed.values())
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{v} {c}/{len(per_seed)}" for v, c in counts.most_common())


def combine(per_seed: dict[int, dict]) -> dict[str, object]:
    """The configuration's final metrics from its seeds' (seed → final metrics); see the module
    docstring. Compute times add up (``compute_seconds``), the interval spans all seeds."""
    if not per_seed:
        raise ValueError("per_seed must hold at least one seed's metrics, but got none.")
    if len(per_seed) == 1:
        ((seed, metrics),) = per_seed.items()
        return dict(metrics) | {"n_seeds": 1}
    keys = sorted({k for m in per_seed.values() for k, v in m.items() if _number(v)})
    out: dict[str, object] = {"n_seeds": len(per_seed)}
    for key in keys:
        values = np.array([float(m.get(key, math.nan)) for m in per_seed.values()])
        finite = values[np.isfinite(values)]
        out[key] = float(finite.mean()) if finite.size else math.nan
    for key in SUMMARISED:
        if key not in out:
            continue
        out |= summarise(key, [float(m.get(key, math.nan)) for m in per_seed.values()])
    starts = [m["compute_start"] for m in per_seed.values() if "compute_start" in m]
    if starts:
        out["compute_start"] = min(starts)
        out["compute_end"] = max(m["compute_end"] for m in per_seed.values())
        out["compute_seconds"] = sum(m["compute_seconds"] for m in per_seed.values())
    out["collapsed"] = max(float(m.get("collapsed", 0)) for m in per_seed.values())
    reasons = [
        f"seed {s}: {m['collapsed_reason']}"
        for s, m in per_seed.items()
        if m.get("collapsed_reason")
    ]
    if reasons:
        out["collapsed_reason"] = "; ".join(reasons)
    out["alpha_verdict"] = _verdicts(per_seed)
    for seed, metrics in per_seed.items():
        prefix = seed_prefix(seed, len(per_seed))
        out |= {f"{prefix}{k}": v for k, v in metrics.items() if _number(v) and k not in INTERVAL}
    return out
