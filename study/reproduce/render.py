"""Rendering a reproduction: the figures (one function per figure, from :mod:`analysis`) and
``reproduction.md`` (table, reasons, rules, the run, checks, metrics per run, figures)."""

from __future__ import annotations

import math
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from analysis.powerlaw import VERDICT_RULE
from study.files.config import METRICS
from study.reproduce.measure import Fit, RunResult, dr
from study.reproduce.paper import (
    EXPERIMENT,
    LABELS,
    LINEAR_FIT_MAX,
    MAIN,
    ONE_POOL,
    SHARED_FORWARD,
    SIGNIFICANCE,
    VERDICTS,
)
from study.reproduce.scales import Scale
from study.reproduce.table import Row, num

__all__ = ["draw_figures", "markdown"]


def _training_rows(history: list[dict]) -> list[dict]:
    """Per-epoch rows keyed by phase and objective (hybrid's surrogate and physics epochs apart)."""
    rows = []
    for row in history:
        label = "forward" if row["phase"] == "forward" else f"inverse ({row['objective']})"
        rows.append(
            {
                "epoch": row["step"],
                f"{label} train_loss": row["train_loss"],
                f"{label} val_accuracy": row["val_accuracy"],
            }
        )
    return rows


def _linear_weights(run: RunResult, train: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    import analysis

    s = run.config.score
    disp, areas = train[0][:LINEAR_FIT_MAX], train[1][:LINEAR_FIT_MAX]
    features = analysis.pair_distance_features(disp, bins=s.rdf_bins, r_max=s.rdf_rmax)
    return analysis.LinearSPR(alpha=s.ridge).fit(features, areas).weights  # (N, bins)


def _figure_plan(runs: dict[str, RunResult], train) -> list[tuple[str, str, Callable]]:
    """(title, file name, draw(path)) for every figure of the report."""
    import analysis

    main, one = runs[MAIN], runs[ONE_POOL]
    ms, size = main.measures, main.config.data.size
    pop = ms.population
    gen, seeds = main.designs["displacements"][pop], main.designs["seed_displacements"][pop]
    r_seed, r_dw = ms.robustness, ms.first_pair_dw
    fitted_counts = [k for k, fit in ms.realisations if fit.law is not None]

    def ccdf(run: RunResult, seed: bool = False):
        m = run.measures
        key = "seed_displacements" if seed else "displacements"
        fit = m.seed_fit if seed else m.fit
        values = dr(run.designs[key][m.population])
        color = "tab:green" if seed else "tab:orange"
        return lambda p: analysis.power_law_ccdf(
            values, p, fit=_need(fit), xlabel="Δr", color=color
        )

    def weights(run: RunResult):
        fit = run.measures.weight_fit
        return lambda p: analysis.weight_ccdf(run.head_weight, p, size=size, fit=_need(fit))

    plan = [
        (
            "Δr of seed vs generated structures (Fig. 4g)",
            "dr_histogram.png",
            lambda p: analysis.displacement_histogram(seeds, gen, p),
        ),
        (
            "CCDF of generated Δr with the power-law fit, 3-pool (Fig. 4g-1, 5a)",
            "dr_ccdf.png",
            ccdf(main),
        ),
        ("CCDF of seed Δr with the power-law fit", "dr_ccdf_seed.png", ccdf(main, seed=True)),
        ("CCDF of generated Δr, 1-pool (Note S6, Fig. S8b)", "dr_ccdf_1pool.png", ccdf(one)),
        (
            "α and Δr_min against realisations (Note S3)",
            "alpha_vs_realisations.png",
            lambda p: analysis.alpha_vs_realisations(gen, fitted_counts, p),
        ),
        ("CCDF of W_j, 3-pool (Fig. 5b)", "weight_ccdf.png", weights(main)),
        ("CCDF of W_j, 1-pool (Fig. S9d)", "weight_ccdf_1pool.png", weights(one)),
        (
            "δ maps of the first seed / generated pair (Fig. 6c,d)",
            "delta_maps.png",
            lambda p: analysis.delta_maps(r_seed.seed_delta[0], r_seed.generated_delta[0], p),
        ),
        (
            "|Δw_m| per mode under single-atom attacks (Fig. 6a,b)",
            "mode_perturbation.png",
            lambda p: analysis.mode_perturbation_curves(r_dw[0], r_dw[1], p),
        ),
        (
            "Energy spectra, seed vs generated (Note S5)",
            "spectra.png",
            lambda p: analysis.spectra_plot(ms.spectra, p),
        ),
        (
            "Linear SPR weights, pair-distance histogram → sorted w (Wang et al.)",
            "linear_weights.png",
            lambda p: analysis.linear_weight_map(
                _linear_weights(main, train), p, r_max=main.config.score.rdf_rmax
            ),
        ),
    ]
    for name, run in runs.items():
        rows = _training_rows(run.history)
        plan.append(
            (
                f"Training curves, {LABELS[name]}",
                f"training_{name}.png",
                lambda p, rows=rows: analysis.training_curves(rows, p),
            )
        )
    return plan


def _need(fit: Fit):
    if fit.law is None:
        raise ValueError(f"no power-law fit ({fit.reason})")
    return fit.law


def draw_figures(runs, train, directory: Path) -> list[tuple[str, str | None, str]]:
    """Draw every figure into ``directory/figures``; (title, relative path or None, reason)."""
    out = []
    for title, name, draw in _figure_plan(runs, train):
        try:
            draw(directory / "figures" / name)
            out.append((title, f"figures/{name}", ""))
        except ValueError as err:
            out.append((title, None, str(err)[:120]))
    return out


def _cell(text: str) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    assert text, "every cell must hold a number, 'n/a (reason)' or text"
    return text


def _table(rows: list[Row], seeds: int = 1) -> list[str]:
    measured = (
        "measured (3-pool surrogate)"
        if seeds == 1
        else f"measured (3-pool surrogate: mean [95 % interval] over {seeds} seeds)"
    )
    head = [
        "claim",
        "paper",
        measured,
        "other modes / 1-pool",
        "baselines",
        "verdict",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = (r.claim, r.paper, r.measured, r.others, r.baselines, f"**{r.verdict}**")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _metrics_table(runs: dict[str, RunResult]) -> list[str]:
    keys = [k for k in METRICS if any(k in r.metrics for r in runs.values())]
    lines = [
        "| metric | " + " | ".join(LABELS[n] for n in runs) + " |",
        "|" + "---|" * (len(runs) + 1),
    ]
    for key in keys:
        values = [r.metrics.get(key, math.nan) for r in runs.values()]
        cells = [num(v, 4) if isinstance(v, (int, float)) else str(v) for v in values]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    seconds = " | ".join(f"{r.seconds:.0f}" for r in runs.values())
    lines.append(f"| wall seconds (trial + measurements) | {seconds} |")
    return lines


def _run_lines(spec: Scale, configs, runs, timing: dict, info: dict) -> list[str]:
    t = configs[MAIN].trial
    d = t.data
    scale = spec.name
    command = f"scalefree reproduce --scale {scale}" + (
        f" --address {info['address']}" if info["address"] else ""
    )
    if len(info.get("seeds", (0,))) > 1:
        command += f" --seeds {len(info['seeds'])}"
    lines = [
        f"- command: `{command}`",
        f"- invoked as: `{shlex.join(sys.argv)}`; python: `{info['call']}`",
        f"- git commit: `{info['commit']}`",
        f"- scale: `{scale}` (study/presets/scales/{scale}.yaml) — preset `{spec.preset}` + "
        f"`--set {' '.join(spec.overrides())}`",
        f"- sizes: L = {d.size} (N = {d.size**2}), train/val/test {d.n_train}/{d.n_val}/{d.n_test} "
        f"(dataset {d.key()[:12]}), {t.score.n_generated} generated structures per run, "
        f"{t.score.n_attacked} attacked pairs at ρa {t.score.attack_strength:g}",
        _wall_time(timing, info),
        f"- MLflow: run `{info['run_id']}` in experiment `{EXPERIMENT}` on `{info['uri']}`",
        "",
        "| run | overrides beyond the scale | stages | filters | FC | dropout | inverse L2 | epochs (fwd/inv) | mode | physics epochs | batch | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, run in runs.items():
        c = run.config
        extra = " ".join(f"{k}={v}" for k, v in spec.runs.get(name, {}).items()) or "none"
        lines.append(
            f"| {LABELS[name]} | `{extra}` | {c.forward.stages} | {list(c.forward.filters)} | {c.forward.fc} | "
            f"{c.forward.dropout:g} | {c.inverse_net.l2:g} | {c.forward_train.epochs}/{c.inverse_train.epochs} | "
            f"{c.inverse.mode} | {c.inverse.physics_epochs if c.inverse.mode != 'surrogate' else 0} | "
            f"{c.forward_train.batch_size} | {run.seconds:.0f} |"
        )
    return lines


def _checks(runs: dict[str, RunResult]) -> list[str]:
    d2l = {n: runs[n].metrics["d2l_accuracy"] for n in (MAIN, *SHARED_FORWARD)}
    same = len(set(d2l.values())) == 1
    shared = ", ".join(LABELS[n] for n in SHARED_FORWARD)
    lines = [
        f"- {shared}: the forward net trained by {LABELS[MAIN]}, shared; D2L accuracy identical "
        "across the three 3-pool runs: "
        + ("yes" if same else "no: " + ", ".join(f"{LABELS[n]} {v:.6f}" for n, v in d2l.items())),
    ]
    for name, run in runs.items():
        ok = math.isclose(run.measures.robustness.gain, run.metrics["robustness_gain"])
        lines.append(
            f"- {LABELS[name]}: the robustness row's gain "
            f"{'equals' if ok else 'DIFFERS from'} the trial's logged metric "
            f"({run.measures.robustness.gain:.6g} vs {run.metrics['robustness_gain']:.6g})"
        )
    return lines


def markdown(spec: Scale, configs, runs, rows, controls, figures, timing, info) -> str:
    """reproduction.md: table, reasons, controls, rules, the run, checks, metrics and figures."""
    from study.reproduce.seeds import SEED_VERDICTS

    seeds = info.get("seeds", (0,))
    counts = {v: sum(r.verdict == v for r in rows) for v in SEED_VERDICTS}
    over = (
        ""
        if len(seeds) == 1
        else f" Each run was trained with trial seeds {', '.join(map(str, seeds))}: every row "
        "gives the mean over seeds with its 95 % interval and every seed's own value, and the "
        "interval decides the verdict (rules below). Every seed's key numbers are under *Every "
        f"seed*; the seed-spread figure shows all seeds; other figures, controls and the per-run "
        f"tables show seed {seeds[0]}."
    )
    over_first = "" if len(seeds) == 1 else f" (seed {seeds[0]})"
    lines = [
        f"# Yu, Piao & Park 2020 — paper vs measured (`{spec.name}` scale)",
        "",
        spec.note,
        "",
        *_table(rows, len(seeds)),
        "",
        "Verdicts: "
        + ", ".join(f"{n} {v}" for v, n in counts.items() if n or v != SEED_VERDICTS[-1])
        + ". Numbers of the 3-pool surrogate run (the paper's protocol) decide every verdict "
        "except the 1-pool row." + over,
        "",
        "## Why rows did not reproduce",
        "",
    ]
    misses = [r for r in rows if r.verdict != VERDICTS[0]]
    lines += [f"- **{r.claim}** ({r.verdict}): {r.why}" for r in misses] or [
        "Every row reproduced."
    ]
    lines += ["", "## Controls", "", "| control | measured | reading |", "|---|---|---|"]
    lines += [f"| {_cell(c.name)} | {_cell(c.measured)} | {_cell(c.reading)} |" for c in controls]
    lines += ["", "## Verdict rules", ""]
    lines.append(
        f"Tails (analysis.PowerLawFit.verdict): {VERDICT_RULE}. An alternative is *preferred* "
        f"when its likelihood ratio against the power law has R < 0 with p < {SIGNIFICANCE:g} "
        "(Clauset, Shalizi & Newman 2009). Every α comes with its tail's size and length in "
        "decades. Power laws are fitted by analysis.fit_power_law (xmin by minimal KS distance, "
        "MLE α). Robustness gains are geometric means over the attacked pairs."
    )
    lines += [""] + [f"- **{r.claim}**: {r.rule}." for r in rows]
    lines += ["", "## Run", "", *_run_lines(spec, configs, runs, timing, info), ""]
    lines += ["## Consistency checks", "", *_checks(runs), ""]
    if info.get("per_seed"):
        lines += ["## Every seed", "", *info["per_seed"], ""]
    lines += ["## Final metrics per run" + over_first, "", *_metrics_table(runs), ""]
    lines += ["## Figures", ""]
    for title, path, reason in figures:
        lines += [f"### {title}", "", f"![{title}]({path})" if path else f"n/a ({reason})", ""]
    return "\n".join(lines)


def _wall_time(timing: dict, info: dict) -> str:
    """The report's wall-time line: this sitting's parts and, for a reproduction continued after
    an interruption, every sitting (each counted to its end or its last finished run)."""
    from study.console import clock

    line = (
        f"- wall time: {timing['total']:.0f} s — data {timing['data']:.0f} s, trials "
        f"{timing['trials']:.0f} s ({info['mode']}), figures and report {timing['report']:.0f} s"
    )
    sittings = info.get("sittings") or []
    if len(sittings) < 2:
        if info.get("resumed"):  # the earlier sittings' times were not kept
            return f"{line} (this sitting; it continued an interrupted reproduction)"
        return line
    total = sum(s["seconds"] for s in sittings)
    each = ", ".join(f"{s['start']} {clock(s['seconds'])}" for s in sittings)
    return (
        f"{line} in the last sitting; {total:.0f} s ({clock(total)}) over {len(sittings)} "
        f"sittings ({each}; a sitting ended by kill -9 counts to its last finished run)"
    )
