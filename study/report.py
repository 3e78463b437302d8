"""The study report: Pareto front of finished trials on stdout, figures saved and logged.

Built from the MLflow trial runs that FINISHED (ASHA-stopped and failed trials carry no final
metrics; Optuna would record stopped ones as COMPLETE with early values).
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

__all__ = ["report", "pareto_mask", "finished_trials"]

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
    from study.confirm import CONFIRMS_TAG
    from study.tracking import COLLAPSED_TAG, VERDICT_TAG

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
        row["confirms"] = run.data.tags.get(CONFIRMS_TAG, "")
        row["run_id"], row["name"] = run.info.run_id, run.info.run_name
        row.update(run.data.metrics)
        rows.append(row)
    return sorted(rows, key=lambda r: r["trial"])


# Searched parameters the report reads from each trial run, as Optuna sampled them (the trial logs
# each one as the param ``search.<name>``; study.search.PARAM_KEYS maps them onto the config).
NUMERIC_PARAMS = ("l2", "fc", "dropout", "lr", "batch_size")
LOG_AXES = frozenset({"l2", "lr"})  # searched on a log scale, drawn on one
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

    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    xs = np.array([r.get(x, np.nan) for r in rows], dtype=float)
    ys = np.array([r.get(y, np.nan) for r in rows], dtype=float)
    stages = np.array([r["stages"] for r in rows])
    distinct = np.unique(xs[np.isfinite(xs)])
    if x in CATEGORICAL and len(rows) > 1:  # spread coinciding values so every trial shows
        step = np.diff(distinct).min() if distinct.size > 1 else 1.0
        xs = xs + np.linspace(-0.06, 0.06, len(rows)) * step
    colours = plt.get_cmap("tab10")
    for k, depth in enumerate(sorted(set(stages.tolist()))):
        pick = stages == depth
        ax.scatter(
            xs[pick],
            ys[pick],
            s=46,
            color=colours(k),
            alpha=0.8,
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
    if x in LOG_AXES:
        ax.set_xscale("log")
    if x in CATEGORICAL:
        ax.set_xticks(distinct, [f"{v:g}" for v in distinct])
    ax.set_xlabel(LABELS.get(x, x))
    ax.set_ylabel(LABELS.get(y, y))
    ax.set_title(f"{len(rows)} finished trials (collapsed trials left out)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _log_front(tracker, info: StudyInfo, rows: list[dict], done, front, objectives, modes):
    """Tag every finished trial ``scalefree.pareto`` true/false; the parent run gets the front,
    the study's best value of each objective and the collapsed count."""
    from study.tracking import PARETO_TAG

    on_front = {d["run_id"] for d, f in zip(done, front, strict=True) if f}
    for r in rows:
        if r["status"] == "FINISHED":
            tracker.set_tags(r["run_id"], {PARETO_TAG: str(r["run_id"] in on_front).lower()})
    parent = info.parent_run_id
    names = [d["name"] for d, f in zip(done, front, strict=True) if f]
    tracker.set_tags(parent, {"scalefree.pareto_trials": ", ".join(names)})
    collapsed = sum(1 for r in rows if r["status"] == "FINISHED" and r.get("collapsed", 0) >= 1)
    summary = {"pareto_size": len(names), "trials_collapsed": collapsed}
    for objective, mode in zip(objectives, modes, strict=True):
        values = [d[objective] for d in done]
        if values:
            summary[f"best_{objective}"] = max(values) if mode == "max" else min(values)
    tracker.log_metrics(parent, summary)


def _print_table(name: str, rows: list[dict], done: list[dict], front: np.ndarray, objectives):
    collapsed = [r for r in rows if r["status"] == "FINISHED" and r.get("collapsed", 0) >= 1]
    print(
        f"study {name}: {len(rows)} trials, {len(done) + len(collapsed)} finished, "
        f"{len(collapsed)} collapsed; Pareto front (*) on {objectives}:"
    )
    head = f"{'trial':<22}{'stages':>7}{'mode':>10}" + "".join(f"{h:>11}" for _, h in COLUMNS)
    print(head + "  tail")
    for r, on_front in zip(done, front, strict=True):
        cells = "".join(f"{r.get(c, math.nan):>11.4f}" for c, _ in COLUMNS)
        mark = "*" if on_front else " "
        flags = [r.get("alpha_verdict") or "no fit"]
        if r.get("isolated_fraction", 0.0) > 0:
            flags.append("gain with isolated atoms")
        line = f"{mark}{r['trial']:<21}{r['stages']:>7}{r['inverse_mode']:>10}{cells}"
        print(f"{line}  {'; '.join(flags)}")
    if collapsed:
        print(f"left out of the front: {len(collapsed)} collapsed trial(s)")
        for r in collapsed:
            print(f"  {r['trial']}: {r.get('collapsed_reason') or 'collapsed'}")
    print(
        "skills: d2l_skill = 1 - MAPE(D2L)/MAPE(oracle on the true (rho, sigma)); "
        "val_skill = 1 - MAPE(validated)/MAPE(fresh Eq. 5 at the nearest training (rho, sigma)); "
        "> 0 beats the baseline. gain: geometric mean over the attacked pairs (gain_m<32 on the "
        "most localised modes); isolated: share of attacked designs' atoms with no neighbour within "
        "2 lattice periods. tail: the power-law verdict on Δr (heavy needs more than the fit's α)."
    )


def front_rows(info: StudyInfo, tracker: Tracker, cfg) -> tuple[list[dict], list[dict], np.ndarray]:
    """(every search trial's row, the rows that may be on the front sorted by the first
    objective, the front mask over those). The front holds trials that finished with finite
    objectives and did not collapse: a dead net's numbers are not a tradeoff, and ASHA-stopped
    trials carry only early values. Confirmation runs are not search trials and are left out."""
    objectives, modes = list(cfg.search.objectives), list(cfg.search.modes)
    rows = [r for r in finished_trials(info, tracker) if not r.get("confirms")]
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
    from study.config import load_config
    from study.directory import read_study
    from study.tracking import Tracker

    info = read_study(name_or_dir)
    directory = info.dir
    tracker = Tracker(info.tracking_uri)
    cfg = load_config(str(directory / "config.yaml"))
    objectives, modes = list(cfg.search.objectives), list(cfg.search.modes)
    rows, done, front = front_rows(info, tracker, cfg)
    out = directory / "report"
    out.mkdir(exist_ok=True)
    header = ["trial", "status", "stages", "filters", *NUMERIC_PARAMS, "inverse_mode"]
    header += [c for c, _ in COLUMNS]
    header += ["alpha_verdict", "collapsed", "pareto", "collapsed_reason"]  # free text last
    with open(out / "trials.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in rows:
            on_front = any(r is d and f for d, f in zip(done, front, strict=True))
            writer.writerow([r.get(h, "") if h != "pareto" else on_front for h in header])
    _print_table(info.name, rows, done, front, objectives)
    _log_front(tracker, info, rows, done, front, objectives, modes)
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
    print(f"report files: {out}")
    return out
