"""Effects, not anecdotes: what each searched parameter does to each objective, and whether the
study can tell it from seed noise.

* **Importance** per objective: Optuna's fANOVA evaluator (``optuna.importance``, scikit-learn's
  random forest underneath) over the COMPLETE search trials; it says how much of an objective's
  variance each parameter explains, and rests on as many trials as it names. With fewer than
  :data:`MIN_IMPORTANCE_TRIALS` trials nothing is claimed.
* **Level differences** for every categorical or integer parameter (pooling depth, output bound,
  inverse mode, bond inputs, FC width, batch size, filters): for each pair of levels, the difference
  of the objective's means, each level's mean weighing its trials equally, with the 95 % Welch
  interval over the trials' means, each trial's mean taken over its seeds
  (:func:`analysis.difference_interval`); a confirmed trial contributes its confirmation's seeds
  to its mean. *Resolved* when the interval excludes 0,
  *within noise* when it does not, *too few to tell* when a level has fewer than
  :data:`MIN_LEVEL_TRIALS` trials (one configuration a side differs in every other sampled
  parameter too: its seeds say how far apart two configurations are, not what this parameter
  does) or shows no spread of its own. Two parameters whose levels split the trials the same way
  (every FC-512 trial also had batch 64) are *confounded*: the study cannot tell their effects
  apart, and each of their effects names the other.
* **Slopes** for every continuous parameter (L2 scale, learning rate, dropout): the least-squares
  slope of the objective's trial means on the parameter (per decade for those searched on a log
  scale), with its t interval over the trials' means (:func:`analysis.slope_interval`); *too few to tell*
  under :data:`MIN_SLOPE_TRIALS` trials. A slope is a straight line through what may be a curve:
  *within noise* says no monotone trend was resolved, not that the parameter does nothing.
  Several pairs and objectives are tested at once: read a lone "resolved" at 95 % with that in mind.
* **Variance components** for every objective and tail measure: the one-way ICC(1) over the
  configurations with two seed runs or more, i.e. the share of the spread that lies between
  configurations rather than between seeds of one, with its F interval, and the seeds a level
  that the study's largest observed level difference would need to be resolved with 80 % power.
  An ICC under 0.5 says a search over one seed per configuration is mostly ranking draws.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Effect",
    "importances",
    "level_effects",
    "slope_effects",
    "seed_values",
    "seed_map",
    "Variance",
    "variance_components",
    "log_variance",
    "MIN_IMPORTANCE_TRIALS",
]

MIN_IMPORTANCE_TRIALS = 4  # fANOVA on fewer trials is a random forest of noise
MIN_LEVEL_TRIALS = 2  # configurations a level needs before a difference is the parameter's
MIN_SLOPE_TRIALS = 4  # configurations a slope needs (three points draw almost any line)
PER_DECADE, PER_UNIT = "slope per decade", "slope per unit"


@dataclass(frozen=True)
class Effect:
    """The difference of an objective between two levels of one searched parameter."""

    param: str
    objective: str
    level_a: object
    level_b: object
    difference: float  # mean(a) − mean(b)
    low: float
    high: float
    verdict: str  # resolved / within noise / too few to tell
    trials_a: int
    trials_b: int
    values_a: int  # seed values behind level a
    values_b: int
    confounded_with: str = ""  # parameters that split the trials exactly as this one does

    def line(self) -> str:
        """``stages 2 − 1: alpha −3.1 [−6.0, −0.4] resolved (4 vs 3 trials, 12 vs 3 seeds)``, or
        for a slope ``l2 slope per decade: alpha +1.2 [+0.3, +2.0] resolved (11 trials, …)``."""
        interval = f"[{self.low:+.3g}, {self.high:+.3g}]" if math.isfinite(self.low) else "[—]"
        same = f", confounded with {self.confounded_with}" if self.confounded_with else ""
        if self.level_a in (PER_DECADE, PER_UNIT):
            return (
                f"{self.param} {self.level_a}: {self.objective} {self.difference:+.3g} "
                f"{interval} {self.verdict} ({self.trials_a} trials, {self.values_a} seed runs)"
            )
        return (
            f"{self.param} {self.level_a} − {self.level_b}: {self.objective} "
            f"{self.difference:+.3g} {interval} {self.verdict} ({self.trials_a} vs "
            f"{self.trials_b} trials, {self.values_a} vs {self.values_b} seed runs{same})"
        )


def seed_values(row: dict, metric: str, confirmations: list[dict] = ()) -> list[float]:
    """Every seed's value of ``metric`` for one trial: its own seeds (``seed<s>/metric``, or the
    metric itself for one seed) and those of the confirmations of it."""
    values = []
    for source in (row, *confirmations):
        pattern = re.compile(rf"seed(\d+)/{re.escape(metric)}$")
        own = [v for k, v in source.items() if pattern.match(k)]
        if not own and isinstance(source.get(metric), (int, float)):
            own = [source[metric]]
        values += [float(v) for v in own if math.isfinite(float(v))]
    return values


def seed_map(metrics: dict, metric: str) -> dict[int, float]:
    """Trial seed → its finite value of ``metric`` in one run's metrics (``seed<s>/metric``)."""
    pattern = re.compile(rf"seed(\d+)/{re.escape(metric)}$")
    out = {}
    for key, value in metrics.items():
        found = pattern.match(key)
        if found and math.isfinite(float(value)):
            out[int(found.group(1))] = float(value)
    return out


def importances(
    storage_dir: Path, name: str, objectives: list[str]
) -> tuple[dict[str, dict[str, float]], int]:
    """(objective → parameter → fANOVA importance, the number of trials behind it); empty when
    the search has fewer than :data:`MIN_IMPORTANCE_TRIALS` COMPLETE trials."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    storage = f"sqlite:///{Path(storage_dir) / 'optuna.db'}"
    study = optuna.load_study(study_name=name, storage=storage)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    usable = [
        t
        for t in complete
        if t.values
        and all(math.isfinite(v) for v in t.values)
        and "imported_from" not in t.user_attrs  # an earlier study's (launch --from)
    ]
    if len(usable) < MIN_IMPORTANCE_TRIALS:
        return {}, len(usable)
    view = optuna.create_study(directions=study.directions)
    view.add_trials(usable)
    # fANOVA's parameters: those every usable trial has with one and the same distribution
    # (optuna's own rule with its default; a conditional one, such as the third stage's filters,
    # would silently drop every trial without it, and a range edited between trials makes optuna
    # refuse), less those with one choice (a parameter the space fixes): they explain nothing
    # by construction and are left out rather than listed at 0.
    first = usable[0].distributions
    varied = [
        p
        for p, d in first.items()
        if not d.single() and all(t.distributions.get(p) == d for t in usable)
    ]
    out = {}
    for k, objective in enumerate(objectives):
        evaluator = FanovaImportanceEvaluator(seed=0)
        ranked = get_param_importances(
            view,
            evaluator=evaluator,
            params=varied,
            target=lambda t, k=k: t.values[k],
            normalize=True,
        )
        out[objective] = {p: float(v) for p, v in ranked.items()}
    return out, len(usable)


def _levels(rows: list[dict], param: str) -> dict[object, list[dict]]:
    levels: dict[object, list[dict]] = {}
    for row in rows:
        value = row["params"].get(param)
        if value is not None:
            levels.setdefault(value, []).append(row)
    return levels


def level_effects(
    rows: list[dict],
    params: list[str],
    objectives: list[str],
    confirmations: dict[str, list[dict]],
) -> list[Effect]:
    """Every pair of levels of every parameter in ``params``, for every objective. ``rows`` are
    finished search trials (each with ``params``, its Optuna parameters, and its metrics);
    ``confirmations`` maps a trial id to the metrics of its confirmation runs."""
    from analysis.uncertainty import TOO_FEW, difference_interval

    splits = {
        p: frozenset(frozenset(r["trial"] for r in group) for group in _levels(rows, p).values())
        for p in params
    }
    effects = []
    for param in params:
        levels = _levels(rows, param)
        if len(levels) < 2:
            continue
        confounded = ", ".join(p for p in params if p != param and splits[p] == splits[param])
        ordered = sorted(levels, key=lambda v: (str(type(v)), v))
        for a, b in itertools.combinations(reversed(ordered), 2):
            for objective in objectives:
                groups = [
                    [
                        seed_values(r, objective, confirmations.get(r["trial"], []))
                        for r in levels[v]
                    ]
                    for v in (a, b)
                ]
                groups = [[g for g in group if g] for group in groups]
                diff, interval = difference_interval(*groups)
                verdict = interval.verdict
                if min(len(g) for g in groups) < MIN_LEVEL_TRIALS:
                    verdict = TOO_FEW
                effects.append(
                    Effect(
                        param,
                        objective,
                        a,
                        b,
                        diff,
                        interval.low,
                        interval.high,
                        verdict,
                        len(groups[0]),
                        len(groups[1]),
                        sum(len(g) for g in groups[0]),
                        sum(len(g) for g in groups[1]),
                        confounded,
                    )
                )
    return effects


def slope_effects(
    rows: list[dict],
    params: dict[str, bool],
    objectives: list[str],
    confirmations: dict[str, list[dict]],
) -> list[Effect]:
    """The slope of every objective on every continuous parameter in ``params`` (name → searched
    on a log scale); ``rows`` and ``confirmations`` as for :func:`level_effects`."""
    from analysis.uncertainty import TOO_FEW, slope_interval

    effects = []
    for param, log in params.items():
        for objective in objectives:
            points = [
                (r["params"][param], seed_values(r, objective, confirmations.get(r["trial"], [])))
                for r in rows
                if isinstance(r["params"].get(param), (int, float))
            ]
            points = [(x, v) for x, v in points if v and (x > 0 or not log)]
            if not points:
                continue
            x = [math.log10(x) if log else x for x, _ in points]
            slope, interval = slope_interval(x, [v for _, v in points])
            verdict = interval.verdict if len(points) >= MIN_SLOPE_TRIALS else TOO_FEW
            n_values = sum(len(v) for _, v in points)
            effects.append(
                Effect(
                    param,
                    objective,
                    PER_DECADE if log else PER_UNIT,
                    "",
                    slope,
                    interval.low,
                    interval.high,
                    verdict,
                    len(points),
                    0,
                    n_values,
                    0,
                )
            )
    return effects


@dataclass(frozen=True)
class Variance:
    """Where an objective's spread lies: between configurations or between seeds of one."""

    objective: str
    icc: object  # analysis.uncertainty.ICC over configurations with two seed runs or more
    largest: float  # the largest |level difference| the study observed on the objective
    seeds_needed: float  # seeds a level for 80 % power on ``largest`` against the seed spread

    def line(self) -> str:
        icc = self.icc
        if not math.isfinite(icc.value):
            return f"{self.objective}: — ({icc.configurations} configurations with 2+ seed runs)"
        share = (
            "configurations differ more than seeds"
            if icc.interval.low >= 0.5
            else "mostly seed"
            if icc.interval.high < 0.5
            else "undecided"
        )
        text = (
            f"{self.objective}: ICC {icc.value:.2f} [{icc.interval.low:.2f}, "
            f"{icc.interval.high:.2f}] {share} ({icc.configurations} configurations, "
            f"{icc.runs} seed runs, seed sd {icc.within_sd:.3g})"
        )
        if math.isfinite(self.largest):
            need = (
                f"{self.seeds_needed:.0f} seeds a level"
                if math.isfinite(self.seeds_needed)
                else "more than 10,000 seeds a level"
            )
            text += f"; its largest level difference, {self.largest:.3g}, needs {need}"
        return text


def variance_components(
    rows: list[dict], objectives: list[str], confirmations: dict[str, list[dict]], effects
) -> list[Variance]:
    """For each objective, the one-way ICC(1) over the study's configurations that have two seed
    runs or more (search seeds and confirmations pooled, :func:`seed_values`), and the seeds a
    level at which the largest level difference of ``effects`` would be resolved with 80 % power
    against the configurations' seed spread (√MSW) (:func:`analysis.uncertainty.seeds_for_power`)."""
    from analysis.uncertainty import icc1, seeds_for_power

    out = []
    for objective in objectives:
        groups = [seed_values(r, objective, confirmations.get(r["trial"], [])) for r in rows]
        icc = icc1(groups)
        differences = [
            abs(e.difference)
            for e in effects
            if e.objective == objective
            and e.level_a not in (PER_DECADE, PER_UNIT)
            and math.isfinite(e.difference)
        ]
        largest = max(differences, default=math.nan)
        out.append(Variance(objective, icc, largest, seeds_for_power(largest, icc.within_sd)))
    return out


def log_variance(tracker, parent: str, variance: list, ablations: list) -> None:
    """``icc_<objective>`` with ``_lo``/``_hi`` and ``seeds_for_power_<objective>`` on the parent
    run; each ablation's ICC as ``ablation/<experiment>/icc_<objective>`` (with ``_lo``/``_hi``)."""
    values = {}
    for v in variance:
        icc = v.icc
        values |= {
            f"icc_{v.objective}": icc.value,
            f"icc_{v.objective}_lo": icc.interval.low,
            f"icc_{v.objective}_hi": icc.interval.high,
            f"seeds_for_power_{v.objective}": v.seeds_needed,
        }
    for c in ablations:
        name = f"ablation/{c.experiment}/icc_{c.objective}"
        values |= {name: c.icc.value, f"{name}_lo": c.icc.interval.low}
        values[f"{name}_hi"] = c.icc.interval.high
    tracker.log_metrics(parent, values)
