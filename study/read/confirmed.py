"""Confirmed numbers beside the trials they confirm: each finished confirmation run's mean and 95 %
interval over its fresh seeds, written onto the search trial's run by every report.

Apart from :mod:`study.run.rounds` (which plans and records rounds, and reads the report's front) so
that the report can write them without an import circle.
"""

from __future__ import annotations

import math

from study.files.tracking import CONFIRMED_BY_TAG, CONFIRMS_TAG

__all__ = ["link", "confirmed_values", "confirmation_runs", "experiment_of"]


def experiment_of(run_tags: dict) -> str | None:
    """The confirmed trial's Tune id for a confirmation run, else None (a search trial)."""
    return run_tags.get(CONFIRMS_TAG)


def confirmed_values(metrics: dict | list[dict], summarised: tuple[str, ...]) -> dict[str, float]:
    """``confirmed_<metric>`` (mean over the fresh seeds) and ``confirmed_<metric>_lo``/``_hi``
    made anew from the per-seed values (``seed<s>/<metric>``) of a trial's confirmation runs (one
    run's metrics, or a list of them: every round's seeds are fresh, so they pool) by the trial's
    own :func:`trainables.seeds.summarise`, so that a study confirmed before a change of interval
    gets today's interval at its next report."""
    import numpy as np

    from study.read.effects import seed_values
    from trainables.seeds import summarise

    runs = [metrics] if isinstance(metrics, dict) else list(metrics)
    values = {"confirmed_n_seeds": sum(m.get("n_seeds", 1) for m in runs)}
    for key in summarised:
        seeds = seed_values({}, key, runs)
        if not seeds:
            continue
        made = summarise(key, seeds)
        values[f"confirmed_{key}"] = float(np.mean(seeds))
        values[f"confirmed_{key}_lo"] = made[f"{key}_lo"]
        values[f"confirmed_{key}_hi"] = made[f"{key}_hi"]
    return values


def _same(stored: float | None, value: float) -> bool:
    """Whether a logged metric already holds ``value``. Non-finite values are never logged
    (:meth:`study.files.tracking.Tracker.log_metrics`), so for those "missing" is "the same"."""
    if not math.isfinite(value):
        return stored is None or not math.isfinite(stored)
    return stored == value


def confirmation_runs(runs) -> dict[str, list]:
    """Confirmed trial's Tune id → its FINISHED confirmation runs (MLflow ``Run``s), oldest first."""
    confirmations = sorted(
        (r for r in runs if experiment_of(r.data.tags) and r.info.status == "FINISHED"),
        key=lambda r: r.info.start_time,
    )
    out: dict[str, list] = {}
    for run in confirmations:
        out.setdefault(experiment_of(run.data.tags), []).append(run)
    return out


def link(info, tracker, summarised: tuple[str, ...]) -> int:
    """Write every confirmed trial's mean and interval over the seeds of all its finished
    confirmation runs (every round's seeds are fresh, so rounds pool: a race adds one seed a
    round) onto the trial's run; returns how many trials were updated (a trial whose values are
    already there is left alone)."""
    from study.files.tracking import TRIAL_TAG

    runs = tracker.child_runs(info.experiment_id, info.parent_run_id)
    by_trial = {r.data.tags.get(TRIAL_TAG): r for r in runs if not experiment_of(r.data.tags)}
    updated = 0
    for trial, confirming in confirmation_runs(runs).items():
        original = by_trial.get(trial)
        if original is None:
            continue
        values = confirmed_values([r.data.metrics for r in confirming], summarised)
        by = ",".join(r.info.run_id for r in confirming)
        current = original.data.metrics
        if original.data.tags.get(CONFIRMED_BY_TAG) == by and all(
            _same(current.get(k), v) for k, v in values.items()
        ):
            continue
        tracker.log_metrics(original.info.run_id, values)
        tracker.set_tags(original.info.run_id, {CONFIRMED_BY_TAG: by})
        updated += 1
    return updated
