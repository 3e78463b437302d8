"""The study report: Pareto front of finished trials on stdout, effects of the searched parameters
with their intervals, figures; everything also on the study's parent run in MLflow.

Built from the MLflow trial runs that FINISHED (ASHA-stopped and failed trials carry no final
metrics; Optuna would record stopped ones as COMPLETE with early values). The terminal gets the few
columns a reader needs first, at most :data:`WIDTH` characters a line; ``report/trials.csv`` has
every column, ``report/effects.csv`` every level difference.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from study.files.directory import StudyInfo
    from study.files.tracking import Tracker

from study.console import captured
from study.files.params import PARAMS
from study.read import answers
from study.read.ablation import write_ablations
from study.read.effects import log_variance
from study.read.figures import figure
from study.read.text import (
    cell,
    overlapping,
    print_ablations,
    print_confirmations,
    print_effects,
    print_table,
    print_variance,
)

__all__ = ["report", "pareto_mask", "finished_trials", "front_rows"]

# (metric, short header): what every trial is read against, accuracy beside its baseline.
COLUMNS = (
    ("d2l_accuracy", "D2L"),
    ("baseline_accuracy", "stats"),
    ("oracle_accuracy", "oracle"),
    ("d2l_skill", "d2l_skill"),
    ("structure_baseline_accuracy", "struct"),
    ("validated_accuracy", "validated"),
    ("design_baseline_accuracy", "design"),
    ("retrieval_accuracy", "retrieval"),
    ("validated_skill", "val_skill"),
    ("alpha", "alpha"),
    ("tail_decades", "decades"),
    ("n_tail", "n_tail"),
    ("robustness_gain", "gain"),
    ("robustness_small_m", "gain_m<32"),
    ("isolated_fraction", "isolated"),
)


def pareto_mask(values: np.ndarray, modes: list[str]) -> np.ndarray:
    """Non-dominated rows of ``values`` (n, k) under per-column max/min ``modes``."""
    signed = values * np.array([1.0 if m == "max" else -1.0 for m in modes])
    keep = np.ones(len(signed), dtype=bool)
    for i, row in enumerate(signed):
        dominated = np.all(signed >= row, axis=1) & np.any(signed > row, axis=1)
        keep[i] = not dominated.any()
    return keep


def finished_trials(info: StudyInfo, tracker: Tracker) -> list[dict]:
    """One row per trial run of the study: status, architecture, tags and final metrics."""
    from study.files.tracking import COLLAPSED_TAG, CONFIRMS_TAG, VERDICT_TAG

    rows = []
    for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
        row = {
            "trial": run.data.tags.get("scalefree.trial_id", run.info.run_name),
            "status": run.info.status,
        }
        params = run.data.params
        row |= {p.name: _param_value(p, params) for p in PARAMS if p.column}
        # "32/64/128", not "(32, 64, 128)": no comma inside a CSV field
        row["filters"] = "/".join(re.findall(r"\d+", params.get("forward.filters", "")))
        row["collapsed_reason"] = run.data.tags.get(COLLAPSED_TAG, "")
        row["alpha_verdict"] = run.data.tags.get(VERDICT_TAG, "")
        row["confirms"] = run.data.tags.get(CONFIRMS_TAG, "")
        row["ablation"] = run.data.tags.get("scalefree.ablation", "")
        row["run_id"], row["name"] = run.info.run_id, run.info.run_name
        row.update(run.data.metrics)
        rows.append(row)
    return sorted(rows, key=lambda r: r["trial"])


def _param_value(param, params: dict) -> object:
    """A searched parameter's value in a trial run, from the trial config it ran with: a number
    for numeric ones (NaN where the run lacks it), else the text MLflow holds."""
    raw = params.get(param.keys[0], "")
    if param.kind == "stages" or param.element in ("positive", "natural"):
        return int(float(raw)) if raw not in ("", "None") else math.nan
    if param.numeric:
        return float(raw) if raw not in ("", "None") else math.nan
    return raw


# Searched parameters with a number the figures can put on an axis; those searched on a log scale
# are drawn on one, and so is α, whose seed intervals are made on log(α − 1) and run long upwards.
NUMERIC_PARAMS = tuple(p.name for p in PARAMS if p.column and p.numeric and p.kind != "stages")


def front_rows(info: StudyInfo, tracker: Tracker, cfg) -> tuple[list[dict], list[dict], np.ndarray]:
    """(every search trial's row, the rows that may be on the front sorted by the first
    objective, the front mask over those). The front holds trials that finished with finite
    objectives and did not collapse: a dead net's numbers are not a tradeoff, and ASHA-stopped
    trials carry only early values. Confirmation runs are not search trials and are left out."""
    objectives, modes = list(cfg.search.objectives), list(cfg.search.modes)
    rows = [
        r for r in finished_trials(info, tracker) if not r.get("confirms") and not r.get("ablation")
    ]
    done = [
        r
        for r in rows
        if r["status"] == "FINISHED"
        and r.get("collapsed", 0) < 1
        and all(math.isfinite(r.get(o, math.nan)) for o in objectives)
    ]
    done.sort(
        key=lambda r: -r.get(objectives[0], 0.0) if modes[0] == "max" else r.get(objectives[0], 0.0)
    )
    front = (
        pareto_mask(np.array([[r[o] for o in objectives] for r in done]), modes)
        if done
        else np.array([], bool)
    )
    return rows, done, front


def report(name_or_dir: str) -> Path:
    """Write and print the study's report, and put it on the parent run. First the confirmed
    means and intervals are (re)made from the confirmation runs' seeds (:func:`study.read.confirmed.link`),
    so a study confirmed before a change of interval shows today's."""
    from study.files.config import load_config
    from study.files.directory import read_study
    from study.files.tracking import Tracker
    from study.read.confirmed import link
    from trainables.seeds import SUMMARISED

    info = read_study(name_or_dir)
    directory = info.dir
    tracker = Tracker(info.tracking_uri)
    cfg = load_config(str(directory / "config.yaml"))
    objectives, modes = list(cfg.search.objectives), list(cfg.search.modes)
    link(info, tracker, SUMMARISED)
    rows, done, front = front_rows(info, tracker, cfg)
    out = directory / "report"
    out.mkdir(exist_ok=True)
    overlaps = overlapping(done, front, objectives)
    effects, ranked, n_trials, variance = _effects(info, tracker, rows, objectives)
    ablations = _ablations(info, tracker, objectives)
    _write_csv(out / "trials.csv", rows, done, front, overlaps)
    _write_effects(out, effects, ranked, n_trials, variance)
    write_ablations(out, ablations)
    with captured() as text:
        print_table(info.name, rows, done, front, objectives, modes, overlaps)
        print_confirmations(done, objectives)
        shown = [e for e in effects if e.objective in objectives]
        print_effects(shown, ranked, n_trials, objectives)
        print_variance(variance)
        print_ablations(ablations)
    answers.log_front(tracker, info, rows, done, front, objectives, modes)
    answers.log_effects(tracker, info.parent_run_id, effects, ranked, n_trials)
    log_variance(tracker, info.parent_run_id, variance, ablations)
    table = _table(rows, done, front, overlaps)
    answers.publish(tracker, info, cfg, text.getvalue(), table, done, out)
    if done:
        figures = (
            ("alpha", "validated_skill", "skill_vs_alpha.png"),
            ("alpha", "validated_accuracy", "accuracy_vs_alpha.png"),
            ("alpha", "robustness_gain", "robustness_vs_alpha.png"),
            ("stages", "alpha", "alpha_vs_depth.png"),
            ("l2", "alpha", "alpha_vs_l2.png"),
            ("fc", "alpha", "alpha_vs_fc.png"),
            ("tail_decades", "alpha", "alpha_vs_tail_decades.png"),
        )
        for x, y, name in figures:
            if not any(math.isfinite(r.get(x, math.nan)) for r in done):
                continue  # a parameter this study's runs do not carry
            on_axes = sorted((x, y)) == sorted(objectives)
            figure(done, front, x, y, out / name, front_axes=on_axes)
    tracker.log_artifacts(info.parent_run_id, out, path="report")
    print(f"report files: {out} (trials.csv: every column)")
    return out


CSV_EXTRA = (  # beside COLUMNS: spreads, intervals, seeds, confirmations
    "net_validated_accuracy",
    "tail_out_of_range",
    "n_seeds",
    "validated_skill_se",
    "alpha_se",
    "alpha_lo",
    "alpha_hi",
    "robustness_gain_lo",
    "robustness_gain_hi",
    "alpha_hill",
    "alpha_hill_lo",
    "alpha_hill_hi",
    "tail_xi",
    "tail_xi_lo",
    "tail_xi_hi",
    "alpha_hill_inside",
    "tail_xi_inside",
    "confirmed_n_seeds",
    "confirmed_validated_skill",
    "confirmed_validated_skill_lo",
    "confirmed_validated_skill_hi",
    "confirmed_alpha",
    "confirmed_alpha_lo",
    "confirmed_alpha_hi",
)


def _write_csv(path: Path, rows, done, front, overlaps) -> None:
    table = _table(rows, done, front, overlaps)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(table[0]) if table else _header())
        for row in table:
            writer.writerow([cell(h, v) for h, v in row.items()])


def _table(rows, done, front, overlaps) -> list[dict]:
    """One dict a search trial, every column of ``trials.csv`` in order."""
    header = _header()
    on_front = {d["trial"] for d, f in zip(done, front, strict=True) if f}
    table = []
    for r in rows:
        extra = {
            "pareto": r["trial"] in on_front,
            "overlaps": " ".join(overlaps.get(r["trial"], [])),
        }
        table.append({h: extra.get(h, r.get(h, "")) for h in header})
    return table


def _header() -> list[str]:
    header = ["trial", "status", "stages", "filters"]
    header += [p.name for p in PARAMS if p.column and p.name != "stages"]
    header += [c for c, _ in COLUMNS] + list(CSV_EXTRA)
    return header + ["alpha_verdict", "collapsed", "pareto", "overlaps", "collapsed_reason"]


def _effects(info: StudyInfo, tracker: Tracker, rows: list[dict], objectives: list[str]):
    """(level differences and slopes, fANOVA importances per objective, trials behind them,
    variance components) of the search. Differences and variance components are made for the
    objectives and the tail measures every comparison shows (:data:`study.read.ablation.COMPARED`)."""
    from study.files.tracking import CONFIRMS_TAG
    from study.read.ablation import COMPARED
    from study.read.effects import importances, level_effects, slope_effects, variance_components

    measured = list(dict.fromkeys([*objectives, *COMPARED]))
    try:
        ranked, n_trials = importances(info.dir, info.name, objectives)
        params, levels, continuous = _searched(info)
    except (KeyError, FileNotFoundError, RuntimeError, ValueError):  # no Optuna study (yet)
        return [], {}, 0, []
    finished = []
    for r in rows:
        if r["status"] == "FINISHED" and r.get("collapsed", 0) < 1 and r["trial"] in params:
            finished.append(r | {"params": params[r["trial"]]})
    confirmations: dict[str, list[dict]] = {}
    for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
        confirms = run.data.tags.get(CONFIRMS_TAG)
        if confirms and run.info.status == "FINISHED":
            confirmations.setdefault(confirms, []).append(dict(run.data.metrics))
    effects = level_effects(finished, levels, measured, confirmations)
    effects += slope_effects(finished, continuous, measured, confirmations)
    variance = variance_components(finished, measured, confirmations, effects)
    return effects, ranked, n_trials, variance


def _ablations(info: StudyInfo, tracker: Tracker, objectives: list[str]) -> list:
    """The one-way comparisons of the study's ablations (:mod:`study.read.ablation`)."""
    from study.read.ablation import comparisons

    return comparisons(tracker.child_runs(info.experiment_id, info.parent_run_id), objectives)


def _searched(info: StudyInfo) -> tuple[dict[str, dict], list[str], dict[str, bool]]:
    """(Tune trial id → Optuna parameters of every COMPLETE search trial, the parameters with
    levels: categorical or integer ones, in the order the space samples them, the continuous
    ones → whether they are searched on a log scale)."""
    import optuna

    storage = f"sqlite:///{info.dir / 'optuna.db'}"
    if not (info.dir / "optuna.db").is_file():
        raise FileNotFoundError(storage)
    study = optuna.load_study(study_name=info.name, storage=storage)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    params = {t.user_attrs.get("tune_trial_id"): dict(t.params) for t in complete}
    levelled = (optuna.distributions.CategoricalDistribution, optuna.distributions.IntDistribution)
    names, continuous = [], {}
    for t in complete:
        for name, dist in t.distributions.items():
            if isinstance(dist, levelled) and name not in names:
                names.append(name)
            elif isinstance(dist, optuna.distributions.FloatDistribution) and not dist.single():
                continuous[name] = dist.log
    return params, names, continuous


def _write_effects(out: Path, effects, ranked: dict, n_trials: int, variance=()) -> None:
    with open(out / "effects.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["param", "objective", "level_a", "level_b", "difference", "low", "high", "verdict"]
            + ["trials_a", "trials_b", "seed_runs_a", "seed_runs_b", "confounded_with"]
        )
        for e in effects:
            writer.writerow(
                [e.param, e.objective, e.level_a, e.level_b]
                + [cell("", v) for v in (e.difference, e.low, e.high)]
                + [e.verdict, e.trials_a, e.trials_b, e.values_a, e.values_b, e.confounded_with]
            )
        for v in variance:  # the ICC over configurations: its own row per objective
            icc = v.icc
            writer.writerow(
                ["icc", v.objective, "between configurations", ""]
                + [cell("", x) for x in (icc.value, icc.interval.low, icc.interval.high)]
                + [f"seeds for 80 % power: {cell('', v.seeds_needed)}"]
                + [icc.configurations, "", icc.runs, "", ""]
            )
    with open(out / "importance.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["objective", "param", "importance", "trials"])
        for objective, values in ranked.items():
            for param, value in values.items():
                writer.writerow([objective, param, f"{value:.4f}", n_trials])
