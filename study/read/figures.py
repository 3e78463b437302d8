"""The report's figures: one objective against another or against a searched parameter, a colour
per pooling depth, every trial labelled, the Pareto front drawn where the axes are the
objectives, confirmed means with their intervals beside their search points, the paper's α
marked."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from study.files.params import PARAMS
from study.read.text import interval

__all__ = ["figure", "LABELS", "LOG_AXES", "CATEGORICAL"]


LOG_AXES = frozenset({*(p.name for p in PARAMS if p.log), "alpha"})


CATEGORICAL = frozenset(p.name for p in PARAMS if p.numeric and p.levels)


PAPER_ALPHA = 3.79  # Yu, Piao & Park: Δr exponent of generated structures (3 pooling stages)


LABELS = {
    "alpha": "α, power-law exponent of generated Δr (smaller = heavier tail)",
    "validated_accuracy": "validated accuracy, 1 − MAPE with the true Hamiltonian",
    "validated_skill": "validated skill, 1 − MAPE / MAPE of the Eq. 5 design baseline",
    "robustness_gain": "robustness gain, seed Δw / design Δw under single-atom attacks",
    "d2l_skill": "D2L skill, 1 − MAPE / MAPE of the (ρ, σ) oracle",
    "tail_decades": "decades of the fitted Δr tail, log10(x_max / x_min)",
} | {p.name: p.label for p in PARAMS if p.label}


def figure(
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
