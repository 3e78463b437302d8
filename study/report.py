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
    from study.directory import StudyInfo
    from study.tracking import Tracker

from study import answers
from study.ablation import write_ablations
from study.effects import log_variance
from study.report_text import (
    captured,
    cell,
    interval,
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
    from study.tracking import COLLAPSED_TAG, CONFIRMS_TAG, VERDICT_TAG

    rows = []
    for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
        row = {
            "trial": run.data.tags.get("scalefree.trial_id", run.info.run_name),
            "status": run.info.status,
        }
        params = run.data.params
        row["stages"] = int(params.get("forward.stages", "0"))
        row["inverse_mode"] = params.get("inverse.mode", "")
        for key in NUMERIC_PARAMS:
            row[key] = float(params.get(f"search.{key}", "nan"))
        # "32/64/128", not "(32, 64, 128)": no comma inside a CSV field
        row["filters"] = "/".join(re.findall(r"\d+", params.get("forward.filters", "")))
        row["collapsed_reason"] = run.data.tags.get(COLLAPSED_TAG, "")
        row["alpha_verdict"] = run.data.tags.get(VERDICT_TAG, "")
        row["bonds"] = params.get("forward.bonds", "")
        row["bound"] = params.get("inverse.bound", "")
        row["symmetry"] = params.get("forward.symmetry", "none")
        row["refine_steps"] = int(params.get("inverse.refine_steps", "0"))
        row["confirms"] = run.data.tags.get(CONFIRMS_TAG, "")
        row["ablation"] = run.data.tags.get("scalefree.ablation", "")
        row["run_id"], row["name"] = run.info.run_id, run.info.run_name
        row.update(run.data.metrics)
        rows.append(row)
    return sorted(rows, key=lambda r: r["trial"])


# Searched parameters the report reads from each trial run, as Optuna sampled them (the trial logs
# each one as the param ``search.<name>``; study.search.PARAM_KEYS maps them onto the config).
NUMERIC_PARAMS = ("l2", "fc", "dropout", "lr", "batch_size")
# Drawn on a log scale: parameters searched on one, and α, whose seed intervals are made on
# log(α − 1) and run long upwards.
LOG_AXES = frozenset({"l2", "lr", "alpha"})
CATEGORICAL = frozenset({"stages", "fc", "batch_size"})
PAPER_ALPHA = 3.79  # Yu, Piao & Park: Δr exponent of generated structures (3 pooling stages)
LABELS = {
    "alpha": "α, power-law exponent of generated Δr (smaller = heavier tail)",
    "validated_accuracy": "validated accuracy, 1 − MAPE with the true Hamiltonian",
    "validated_skill": "validated skill, 1 − MAPE / MAPE of the Eq. 5 design baseline",
    "robustness_gain": "robustness gain, seed Δw / design Δw under single-atom attacks",
    "d2l_skill": "D2L skill, 1 − MAPE / MAPE of the (ρ, σ) oracle",
    "stages": "pooling stages of both nets",
    "l2": "L2 scale of the inverse net",
    "fc": "FC width of both nets",
    "tail_decades": "decades of the fitted Δr tail, log10(x_max / x_min)",
}


def _figure(
    rows: list[dict], front: np.ndarray, x: str, y: str, path: Path, *, front_axes: bool
) -> Path:
    """y against x, one colour per pooling depth, points labelled by trial, the front drawn
    (when x and y are the objectives) and the paper's α marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    xs = np.array([r.get(x, np.nan) for r in rows], dtype=float)
    ys = np.array([r.get(y, np.nan) for r in rows], dtype=float)
    stages = np.array([r["stages"] for r in rows])
    distinct = np.unique(xs[np.isfinite(xs)])
    if x in CATEGORICAL and len(rows) > 1:  # spread coinciding values so every trial shows
        step = np.diff(distinct).min() if distinct.size > 1 else 1.0
        xs = xs + np.linspace(-0.06, 0.06, len(rows)) * step
    colours = plt.get_cmap("tab10")
    xerr, yerr = _errors(rows, x, xs), _errors(rows, y, ys)
    for k, depth in enumerate(sorted(set(stages.tolist()))):
        pick = stages == depth
        ax.errorbar(
            xs[pick],
            ys[pick],
            xerr=None if xerr is None else xerr[:, pick],
            yerr=None if yerr is None else yerr[:, pick],
            fmt="o",
            ms=6,
            color=colours(k),
            alpha=0.8,
            elinewidth=1,
            capsize=2,
            zorder=3,
            label=f"{depth} pooling stage{'s' if depth > 1 else ''}",
        )
    for r, px, py in zip(rows, xs, ys, strict=True):
        ax.annotate(
            r["trial"][-8:],
            (px, py),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7,
            color="0.3",
        )
    _confirmed_overlay(ax, rows, x, y, xs, ys)
    if front_axes and front.any():
        order = np.argsort(xs[front])
        ax.plot(
            xs[front][order],
            ys[front][order],
            "--",
            color="0.2",
            lw=1.2,
            zorder=2,
            label="Pareto front",
        )
        ax.scatter(xs[front], ys[front], s=140, facecolors="none", edgecolors="0.2", zorder=4)
    if x == "alpha":
        ax.axvline(PAPER_ALPHA, color="crimson", lw=1, ls=":", label=f"paper α = {PAPER_ALPHA}")
    if y == "alpha":
        ax.axhline(PAPER_ALPHA, color="crimson", lw=1, ls=":", label=f"paper α = {PAPER_ALPHA}")
    for name, axis, scale in ((x, ax.xaxis, ax.set_xscale), (y, ax.yaxis, ax.set_yscale)):
        if name in LOG_AXES:  # ticks read as numbers (2, 5, 10, 1e-05), not 2×10⁰
            scale("log")
            axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    if x in CATEGORICAL:
        ax.set_xticks(distinct, [f"{v:g}" for v in distinct])
    ax.set_xlabel(LABELS.get(x, x))
    ax.set_ylabel(LABELS.get(y, y))
    ax.set_title(
        f"{len(rows)} finished trials (collapsed left out); bars: 95 % intervals\n"
        "search: over structures or attacked pairs (one seed); ◇ confirmed: over fresh seeds",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _confirmed_overlay(ax, rows: list[dict], x: str, y: str, xs, ys) -> None:
    """Each confirmed trial's mean over its fresh seeds (◇, with the seeds' interval), joined to
    its search point: the error bar that tells seed noise from architecture."""
    drawn = False
    for r, px, py in zip(rows, xs, ys, strict=True):
        if not math.isfinite(r.get("confirmed_n_seeds", math.nan)):
            continue
        centre, bars = [], []
        for metric, search in ((x, px), (y, py)):
            value = r.get(f"confirmed_{metric}", math.nan)
            if not math.isfinite(value):  # a parameter (depth, L2): the same configuration
                centre.append(search), bars.append(None)
                continue
            low, high = interval(r, metric, confirmed=True)
            centre.append(value)
            bars.append([[max(value - low, 0.0)], [max(high - value, 0.0)]])
        ax.plot([px, centre[0]], [py, centre[1]], color="0.55", lw=0.8, zorder=2)
        ax.errorbar(
            [centre[0]],
            [centre[1]],
            xerr=bars[0],
            yerr=bars[1],
            fmt="D",
            ms=7,
            mfc="none",
            mec="black",
            ecolor="black",
            elinewidth=1.4,
            capsize=3,
            zorder=5,
            label=None if drawn else "confirmed: mean of fresh seeds",
        )
        drawn = True


def _errors(rows: list[dict], metric: str, centres: np.ndarray) -> np.ndarray | None:
    """(2, n) error-bar lengths around ``centres`` from each row's interval (0 where none)."""
    bounds = np.array([interval(r, metric, confirmed=False) for r in rows], dtype=float).T
    if not np.isfinite(bounds).any():
        return None
    below, above = centres - bounds[0], bounds[1] - centres
    return np.nan_to_num(np.clip(np.vstack([below, above]), 0, None))


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
    means and intervals are (re)made from the confirmation runs' seeds (:func:`study.confirmed.link`),
    so a study confirmed before a change of interval shows today's."""
    from study.config import load_config
    from study.confirmed import link
    from study.directory import read_study
    from study.tracking import Tracker
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
            _figure(done, front, x, y, out / name, front_axes=on_axes)
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
    header = [
        "trial",
        "status",
        "stages",
        "filters",
        *NUMERIC_PARAMS,
        "inverse_mode",
        "bound",
        "bonds",
    ]
    header += ["symmetry", "refine_steps"]
    header += [c for c, _ in COLUMNS] + list(CSV_EXTRA)
    return header + ["alpha_verdict", "collapsed", "pareto", "overlaps", "collapsed_reason"]


def _effects(info: StudyInfo, tracker: Tracker, rows: list[dict], objectives: list[str]):
    """(level differences and slopes, fANOVA importances per objective, trials behind them,
    variance components) of the search. Differences and variance components are made for the
    objectives and the tail measures every comparison shows (:data:`study.ablation.COMPARED`)."""
    from study.ablation import COMPARED
    from study.effects import importances, level_effects, slope_effects, variance_components
    from study.tracking import CONFIRMS_TAG

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
    """The one-way comparisons of the study's ablations (:mod:`study.ablation`)."""
    from study.ablation import comparisons

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
