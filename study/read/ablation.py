"""Designed comparisons: one trial's configuration held fixed, one parameter varied over its
levels, every level with the same fresh seeds (``scalefree ablate NAME --trial ID --vary
space.stages=[1,2,3] --seeds 3``).

A search varies every parameter at once, so a level difference over its trials carries every other
parameter's effect as noise, and its confirmed configurations differ in everything. An ablation
is the comparison careful users make instead: the levels differ in the varied parameter alone, and
the unit of its intervals is the seed.

* Planning (:func:`study.run.rounds.plan_ablation`): the base is a finished search trial; ``--vary`` names a
  searched parameter as ``space.<name>`` and its levels as a YAML list. Each level is checked as a
  whole trial config before anything is written (one line and exit 2 otherwise). Varying
  ``stages`` keeps the base's filters for the stages it has; a new stage gets the smallest filter
  choice of the space at least twice the stage before it (the paper's 256/512/1024 doubling),
  else the largest choice.
* Running: the round is a :class:`study.run.rounds.Round` of kind ``ablate`` (recorded in
  ``confirm.json`` before anything runs, its own Tune experiment ``ablate``, ``ablate-2``, …), so
  ``resume`` continues it after kill -9 and Optuna never sees it. Each level's run is tagged
  ``scalefree.ablation`` (the experiment), ``scalefree.level`` (``stages=2``) and
  ``scalefree.ablates`` (the base trial).
* Reading (:func:`comparisons`): per level, the mean over seeds with its interval
  (:func:`trainables.seeds.summarise`, the study's interval rules); per pair of levels, the
  difference paired over the seeds the levels share (every level gets the same fresh seeds:
  :func:`analysis.uncertainty.paired_interval`; Welch's interval over seeds where they do not);
  whether the levels differ at all, with the seeds as blocks (Fisher's two-way ANOVA,
  :func:`analysis.uncertainty.blocked_anova`, on log(α − 1) for an exponent); and the one-way ICC
  over the levels (:func:`analysis.uncertainty.icc1`). Why paired: at `reference` size a seed that
  lengthens the tail does so at every depth (one seed gave α_hill 24, 21 and 10 at depths 1–3
  where the others gave 7–13), so an unpaired interval counts the seed as noise twice.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

from study.read.text import cell

__all__ = [
    "write_ablations",
    "comparisons",
    "Comparison",
    "COMPARED",
    "ABLATION_TAG",
    "LEVEL_TAG",
    "ABLATES_TAG",
]

ABLATION_TAG = "scalefree.ablation"  # on an ablation run: its experiment (ablate, ablate-2, …)
LEVEL_TAG = "scalefree.level"  # on an ablation run: the level, "stages=2"
ABLATES_TAG = "scalefree.ablates"  # on an ablation run: the Tune id of the varied trial
# What every comparison shows beside the study's objectives: skill, the CSN exponent and the
# fixed-share tail measures (analysis.tails), so that their ICCs can be read side by side.
COMPARED = ("validated_skill", "alpha", "alpha_hill", "tail_xi", "alpha_hill_inside")


@dataclass(frozen=True)
class Comparison:
    """One ablation's one-way comparison on one objective."""

    experiment: str
    base: str
    vary: str
    objective: str
    levels: dict[str, list[float]]  # level label → its seed values, levels in natural order
    means: dict[str, tuple[float, float, float]]  # level → (mean, low, high)
    differences: list  # (level a, level b, difference, Interval): paired over the shared seeds
    icc: object  # analysis.uncertainty.ICC over the levels
    blocked: tuple[float, float] = (float("nan"), float("nan"))  # (F, p): levels, seeds as blocks

    def lines(self) -> list[str]:
        icc = self.icc
        head = (
            f"  {self.objective}: ICC {icc.value:.2f} [{icc.interval.low:.2f}, "
            f"{icc.interval.high:.2f}] over {icc.configurations} levels, {icc.runs} seed runs"
            if math.isfinite(icc.value)
            else f"  {self.objective}: ICC — (too few seed runs)"
        )
        out = [head]
        f, p = self.blocked
        if math.isfinite(p):
            verdict = "levels differ" if p < 0.05 else "no difference resolved"
            out[0] += f"; the same seeds at every level: F {f:.2f}, p {p:.3g}, {verdict}"
        for label, (mean, low, high) in self.means.items():
            n = len(self.levels[label])
            out.append(f"    {label:<18} {mean:8.3g} [{low:.3g}, {high:.3g}]  ({n} seeds)")
        for a, b, diff, interval in self.differences:
            span = f"[{interval.low:+.3g}, {interval.high:+.3g}]" if interval.made else "[—]"
            out.append(f"    {a} − {b}: {diff:+.3g} {span} {interval.verdict}")
        return out


def _level_order(label: str) -> tuple:
    """Levels in their natural order (1 < 2 < 10, false < true), whatever order their runs
    started in (a resumed ablation restarts some)."""
    value = label.partition("=")[2]
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _scale(value: float, bound: float | None) -> float:
    """The scale the levels are tested on: log(x − bound) for a bounded, skewed metric (α over
    seeds runs long upwards), the value itself otherwise."""
    if bound is None:
        return value
    return math.log(value - bound) if value > bound else math.nan


def comparisons(runs, objectives: list[str]) -> list[Comparison]:
    """Every ablation of the study (its FINISHED level runs, MLflow ``Run``s) compared on each of
    ``objectives`` and :data:`COMPARED`."""
    from analysis.uncertainty import blocked_anova, difference_interval, icc1, paired_interval
    from study.read.effects import seed_map, seed_values
    from trainables.seeds import BOUNDS, summarise

    by_experiment: dict[str, list] = {}
    for run in runs:
        if run.data.tags.get(ABLATION_TAG) and run.info.status == "FINISHED":
            by_experiment.setdefault(run.data.tags[ABLATION_TAG], []).append(run)
    out = []
    wanted = list(dict.fromkeys([*objectives, *COMPARED]))
    for experiment, level_runs in sorted(by_experiment.items()):
        level_runs.sort(key=lambda r: _level_order(r.data.tags.get(LEVEL_TAG, "")))
        base = level_runs[0].data.tags.get(ABLATES_TAG, "")
        vary = level_runs[0].data.tags.get(LEVEL_TAG, "").partition("=")[0]
        for objective in wanted:
            levels = {
                r.data.tags[LEVEL_TAG]: seed_values(r.data.metrics, objective) for r in level_runs
            }
            levels = {k: v for k, v in levels.items() if v}
            if len(levels) < 2:
                continue
            means = {}
            for label, values in levels.items():
                made = summarise(objective, values)
                mean = sum(values) / len(values)
                means[label] = (mean, made[f"{objective}_lo"], made[f"{objective}_hi"])
            by_seed = {
                r.data.tags[LEVEL_TAG]: seed_map(r.data.metrics, objective) for r in level_runs
            }
            by_seed = {k: v for k, v in by_seed.items() if k in levels}
            shared = sorted(set.intersection(*(set(v) for v in by_seed.values())))
            differences = []
            for a, b in itertools.combinations(levels, 2):
                if len(shared) >= 2:  # the same seeds at both: paired
                    diff, interval = paired_interval(
                        [by_seed[a][s] for s in shared], [by_seed[b][s] for s in shared]
                    )
                else:
                    diff, interval = difference_interval(
                        [[v] for v in levels[b]], [[v] for v in levels[a]]
                    )
                differences.append((b, a, diff, interval))
            icc = icc1(list(levels.values()))
            bound = BOUNDS.get(objective)
            table = [[_scale(by_seed[label][s], bound) for s in shared] for label in by_seed]
            blocked = blocked_anova(table) if len(shared) >= 2 else (math.nan, math.nan)
            out.append(
                Comparison(
                    experiment, base, vary, objective, levels, means, differences, icc, blocked
                )
            )
    return out


def write_ablations(out: Path, ablations: list) -> None:
    """``report/ablation.csv``: one row a level and objective (mean and interval over its seeds),
    one a difference of two levels (Welch over seeds), one the ICC over the levels."""
    path = out / "ablation.csv"
    if not ablations:
        path.unlink(missing_ok=True)
        return
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["ablation", "base_trial", "vary", "objective", "row", "level", "other_level"]
            + ["value", "low", "high", "verdict", "seeds"]
        )
        for c in ablations:
            head = [c.experiment, c.base, c.vary, c.objective]
            for label, (mean, low, high) in c.means.items():
                cells = [cell("", v) for v in (mean, low, high)]
                writer.writerow(head + ["level", label, ""] + cells + ["", len(c.levels[label])])
            for a, b, diff, interval in c.differences:
                cells = [cell("", v) for v in (diff, interval.low, interval.high)]
                seeds = len(c.levels[a]) + len(c.levels[b])
                writer.writerow(head + ["difference", a, b] + cells + [interval.verdict, seeds])
            icc = c.icc
            cells = [cell("", v) for v in (icc.value, icc.interval.low, icc.interval.high)]
            writer.writerow(head + ["icc", "", ""] + cells + ["", icc.runs])
