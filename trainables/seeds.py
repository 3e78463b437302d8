"""One configuration over several trial seeds: the seeds' final metrics combined into the
configuration's numbers, each with its spread.

A trial seed drives every random choice of a trial (weights, batches, dropout, attacks); the same
architecture gives α 6.2, 8.7 or 16.9 depending on it alone. So a configuration run with K seeds
reports, for every numeric final metric, the mean over its seeds under the metric's own name (what
Optuna optimises and the report compares), every seed's own value as ``seed<s>/<metric>``, and for
the metrics a study reads (:data:`SUMMARISED`) the standard error over seeds (``<metric>_se``) and
the 95 % t interval of the mean (``<metric>_lo``/``_hi``). One seed is reported as it is: there the
``alpha_lo``/``_hi`` and ``robustness_gain_lo``/``_hi`` of :mod:`trainables.score` are bootstrap
intervals over structures and attacked pairs, which show sampling noise but not seed noise.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

__all__ = ["SUMMARISED", "seed_prefix", "combine"]

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
    "tail_decades",
    "weight_alpha",
    "robustness_gain",
    "hub_gini",
)


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
    from analysis.uncertainty import seed_interval

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
        values = np.array([float(m.get(key, math.nan)) for m in per_seed.values()])
        finite = values[np.isfinite(values)]
        interval = seed_interval(finite)
        se = float(finite.std(ddof=1) / math.sqrt(finite.size)) if finite.size > 1 else math.nan
        out |= {f"{key}_se": se, f"{key}_lo": interval.low, f"{key}_hi": interval.high}
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
