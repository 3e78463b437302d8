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

COLUMNS = (
    "validated_accuracy",
    "alpha",
    "robustness_gain",
    "d2l_accuracy",
    "baseline_accuracy",
    "linear_accuracy",
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


def report(name_or_dir: str) -> Path:
    import mlflow

    from study.config import load_config
    from study.launch import read_study

    info = read_study(name_or_dir)
    directory = Path(info["dir"])
    cfg = load_config(str(directory / "config.yaml"))
    objectives, modes = list(cfg.search.objectives), list(cfg.search.modes)
    rows = finished_trials(info)
    done = [
        r
        for r in rows
        if r["status"] == "FINISHED" and all(math.isfinite(r.get(o, math.nan)) for o in objectives)
    ]
    out = directory / "report"
    out.mkdir(exist_ok=True)
    front = (
        pareto_mask(np.array([[r[o] for o in objectives] for r in done]), modes)
        if done
        else np.array([], bool)
    )
    header = ["trial", "status", "stages", "inverse_mode", *COLUMNS, "pareto"]
    with open(out / "trials.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in rows:
            on_front = any(r is d and f for d, f in zip(done, front, strict=True))
            writer.writerow([r.get(h, "") if h != "pareto" else on_front for h in header])
    print(
        f"study {info['name']}: {len(rows)} trials, {len(done)} finished; Pareto front on {objectives}:"
    )
    print(f"{'trial':<24}{'stages':>7}{'mode':>11}" + "".join(f"{c:>20}" for c in COLUMNS))
    for r, on_front in zip(done, front, strict=True):
        if on_front:
            cells = "".join(f"{r.get(c, math.nan):>20.4f}" for c in COLUMNS)
            print(f"{r['trial']:<24}{r['stages']:>7}{r['inverse_mode']:>11}{cells}")
    client = mlflow.MlflowClient(info["tracking_uri"])
    if done:
        _figure(done, "alpha", "validated_accuracy", out / "accuracy_vs_alpha.png")
        _figure(done, "alpha", "robustness_gain", out / "robustness_vs_alpha.png")
    client.log_artifacts(info["parent_run_id"], str(out), artifact_path="report")
    print(f"report files: {out}")
    return out
