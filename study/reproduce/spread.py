"""A reproduction over seeds, run by run: every seed's key numbers in one table, and a figure of
the seed spread of each run's validated accuracy and exponents beside the paper's values."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from study.reproduce.measure import RunResult
from study.reproduce.paper import LABELS, PAPER_ALPHA, PAPER_ALPHA_1POOL, PAPER_VALIDATED, RUNS
from study.reproduce.table import num, pct

__all__ = ["seed_table", "draw_seed_spread", "SPREAD_FIGURE"]

SPREAD_FIGURE = "seed_spread.png"


def _row(run: RunResult) -> dict[str, object]:
    m, ms = run.metrics, run.measures
    return {
        "D2L": m.get("d2l_accuracy", math.nan),
        "L2D2L": m.get("l2d2l_accuracy", math.nan),
        "validated": m.get("validated_accuracy", math.nan),
        "skill": m.get("validated_skill", math.nan),
        "α (Fig. 4g band)": ms.fit.alpha,
        "tail": ms.fit.verdict,
        "beyond range": ms.tail_out_of_range,  # share of the band's tail
        "α_hill": m.get("alpha_hill", math.nan),
        "ξ": m.get("tail_xi", math.nan),
        "gain": m.get("robustness_gain", math.nan),
        "wall s": run.seconds,
    }


def seed_table(by_seed: dict[int, dict[str, RunResult]]) -> list[str]:
    """Markdown: one line per run and seed, the numbers the verdicts and the analysis read."""
    first = next(iter(by_seed.values()))
    head = list(_row(next(iter(first.values()))))
    lines = ["| run | seed | " + " | ".join(head) + " |", "|" + "---|" * (len(head) + 2)]
    for name in RUNS:
        for seed, runs in by_seed.items():
            values = _row(runs[name])
            cells = [
                pct(v) if k in ("D2L", "L2D2L", "validated", "beyond range") else
                (f"{v:.0f}" if k == "wall s" else (v if isinstance(v, str) else num(v)))
                for k, v in values.items()
            ]  # fmt: skip
            lines.append(f"| {LABELS[name]} | {seed} | " + " | ".join(cells) + " |")
    return lines


def draw_seed_spread(by_seed: dict[int, dict[str, RunResult]], directory: Path) -> Path:
    """Three panels, one column per run: each seed's validated accuracy, band α and α_hill
    (points), their mean (square) and the study's interval over seeds (line; on log(α − 1) for
    exponents, so not always around the mean), beside the paper's values (dashed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from study.reproduce.seeds import mean_interval

    one_pool = (PAPER_ALPHA_1POOL, "tab:purple", ":", "paper 1-pool")
    panels = (  # title, the per-run number, its bound, the paper's lines (value, colour, style, label)
        ("validated accuracy", lambda r: r.metrics["validated_accuracy"], None,
         [(PAPER_VALIDATED, "tab:blue", "--", "paper")]),
        ("α of generated Δr, Fig. 4g band", lambda r: r.measures.fit.alpha, 1.0,
         [(PAPER_ALPHA, "tab:blue", "--", "paper"), one_pool]),
        ("α_hill, top 1 % of Δr", lambda r: r.metrics.get("alpha_hill", math.nan), 1.0, []),
    )  # fmt: skip
    fig = Figure(figsize=(13.5, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels))
    x = np.arange(len(RUNS))
    for ax, (title, read, lower, paper) in zip(axes, panels, strict=True):
        for i, name in enumerate(RUNS):
            values = np.array([read(runs[name]) for runs in by_seed.values()], dtype=float)
            ax.plot(np.full(values.size, i) + 0.08, values, "o", color="tab:orange", ms=5)
            mean, interval = mean_interval(values, lower)
            if math.isfinite(mean):  # the interval as its own line: on log(α − 1) it is not
                ax.plot(i - 0.08, mean, "s", color="k", ms=5)  # always around the mean
                if interval.made:
                    ax.vlines(i - 0.08, interval.low, interval.high, color="k", lw=1.5)
        for value, colour, style, label in paper:
            ax.axhline(value, color=colour, ls=style, lw=1, label=f"{label} {value:g}")
        if lower is not None:
            ax.set_yscale("log")
        else:  # an accuracy: a t interval of 2–3 seeds may reach past 1
            ax.set_ylim(top=min(ax.get_ylim()[1], 1.02))
        ax.set_xticks(x, [LABELS[n].replace(" ", "\n", 1) for n in RUNS], fontsize=8)
        ax.set_title(title, fontsize=10)
        if paper:
            ax.legend(fontsize=7, loc="best")
    fig.suptitle(
        f"{len(by_seed)} seeds per run: seeds (orange), mean with its 95 % interval (black)",
        fontsize=10,
    )
    out = directory / "figures" / SPREAD_FIGURE
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=110)
    return out
