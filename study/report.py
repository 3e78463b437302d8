"""The study report: Pareto front of finished trials on stdout, figures saved and logged.

Built from the MLflow trial runs that FINISHED (ASHA-stopped and failed trials carry no final
metrics; Optuna would record stopped ones as COMPLETE with early values).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

__all__ = ["report", "pareto_mask", "finished_trials"]

# (metric, short header): what every trial is read against, accuracy beside its baseline.
COLUMNS = (
    ("d2l_accuracy", "D2L"),
    ("oracle_accuracy", "oracle"),
    ("d2l_skill", "d2l_skill"),
    ("structure_baseline_accuracy", "struct"),
    ("validated_accuracy", "validated"),
    ("design_baseline_accuracy", "design"),
    ("retrieval_accuracy", "retrieval"),
    ("validated_skill", "val_skill"),
    ("alpha", "alpha"),
    ("robustness_gain", "gain"),
)


def pareto_mask(values: np.ndarray, modes: list[str]) -> np.ndarray:
    """Non-dominated rows of ``values`` (n, k) under per-column max/min ``modes``."""
    signed = values * np.array([1.0 if m == "max" else -1.0 for m in modes])
    keep = np.ones(len(signed), dtype=bool)
    for i, row in enumerate(signed):
        dominated = np.all(signed >= row, axis=1) & np.any(signed > row, axis=1)
        keep[i] = not dominated.any()
    return keep


def finished_trials(info: dict) -> list[dict]:
    import mlflow

    from study.tracking import COLLAPSED_TAG

    client = mlflow.MlflowClient(info["tracking_uri"])
    runs = client.search_runs(
        [info["experiment_id"]],
        filter_string=f"tags.`mlflow.parentRunId` = '{info['parent_run_id']}'",
        max_results=10000,
    )
    rows = []
    for run in runs:
        row = {
            "trial": run.data.tags.get("scalefree.trial_id", run.info.run_name),
            "status": run.info.status,
        }
        row["stages"] = int(run.data.params.get("forward.stages", "0"))
        row["inverse_mode"] = run.data.params.get("inverse.mode", "")
        row["collapsed_reason"] = run.data.tags.get(COLLAPSED_TAG, "")
        row.update(run.data.metrics)
        rows.append(row)
    return sorted(rows, key=lambda r: r["trial"])


def _figure(rows: list[dict], x: str, y: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    stages = np.array([r["stages"] for r in rows])
    sc = ax.scatter(
        [r.get(x, np.nan) for r in rows], [r.get(y, np.nan) for r in rows], c=stages, cmap="viridis"
    )
    fig.colorbar(sc, ax=ax, label="pooling stages")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{y} vs {x}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _print_table(name: str, rows: list[dict], done: list[dict], front: np.ndarray, objectives):
    collapsed = [r for r in rows if r["status"] == "FINISHED" and r.get("collapsed", 0) >= 1]
    print(
        f"study {name}: {len(rows)} trials, {len(done) + len(collapsed)} finished, "
        f"{len(collapsed)} collapsed; Pareto front (*) on {objectives}:"
    )
    print(f"{'trial':<22}{'stages':>7}{'mode':>10}" + "".join(f"{h:>11}" for _, h in COLUMNS))
    for r, on_front in zip(done, front, strict=True):
        cells = "".join(f"{r.get(c, math.nan):>11.4f}" for c, _ in COLUMNS)
        mark = "*" if on_front else " "
        print(f"{mark}{r['trial']:<21}{r['stages']:>7}{r['inverse_mode']:>10}{cells}")
    if collapsed:
        print(f"left out of the front: {len(collapsed)} collapsed trial(s)")
        for r in collapsed:
            print(f"  {r['trial']}: {r.get('collapsed_reason') or 'collapsed'}")
    print(
        "skills: d2l_skill = 1 - MAPE(D2L)/MAPE(oracle on the true (rho, sigma)); "
        "val_skill = 1 - MAPE(validated)/MAPE(fresh Eq. 5 at the nearest training (rho, sigma)); "
        "> 0 beats the baseline."
    )


def report(name_or_dir: str) -> Path:
    import mlflow

    from study.config import load_config
    from study.launch import read_study

    info = read_study(name_or_dir)
    directory = Path(info["dir"])
    cfg = load_config(str(directory / "config.yaml"))
    objectives, modes = list(cfg.search.objectives), list(cfg.search.modes)
    rows = finished_trials(info)
    # The front holds trials that finished with finite objectives and did not collapse: a dead
    # net's numbers are not a tradeoff, and ASHA-stopped trials carry only early values.
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
    out = directory / "report"
    out.mkdir(exist_ok=True)
    front = (
        pareto_mask(np.array([[r[o] for o in objectives] for r in done]), modes)
        if done
        else np.array([], bool)
    )
    header = ["trial", "status", "stages", "inverse_mode", *(c for c, _ in COLUMNS)]
    header += ["collapsed", "collapsed_reason", "pareto"]
    with open(out / "trials.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in rows:
            on_front = any(r is d and f for d, f in zip(done, front, strict=True))
            writer.writerow([r.get(h, "") if h != "pareto" else on_front for h in header])
    _print_table(info["name"], rows, done, front, objectives)
    client = mlflow.MlflowClient(info["tracking_uri"])
    if done:
        _figure(done, "alpha", "validated_accuracy", out / "accuracy_vs_alpha.png")
        _figure(done, "alpha", "robustness_gain", out / "robustness_vs_alpha.png")
    client.log_artifacts(info["parent_run_id"], str(out), artifact_path="report")
    print(f"report files: {out}")
    return out
