"""The reproduction's claims: a registry of :class:`Claim`, each with its text, the pure rule that
decides its verdict (:mod:`study.reproduce.rules`) and the row builder that measures it on the runs.

Numbers of the 3-pool surrogate run (the paper's protocol) decide every verdict except the 1-pool
row. Every row says why it did not reproduce, from the measured numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from study.reproduce import rules
from study.reproduce.measure import RunResult, dr, fit_tail
from study.reproduce.paper import (
    ALPHA_TOLERANCE,
    LABELS,
    MIN_STRUCTURES,
    PAPER_1POOL,
    PAPER_ALPHA,
    PAPER_BAND_ALPHAS,
    PAPER_D2L,
    PAPER_L2D2L,
    PAPER_VALIDATED,
    PAPER_XMIN,
    RUNS,
    STABILITY_FACTOR,
)
from study.reproduce.rows import (
    heavy_inside,
    row_hubs,
    row_one_pool,
    row_robustness,
    row_seeds,
    row_spectra,
    row_subsets,
    row_weights,
)
from study.reproduce.table import Context, Finding, Row, num, pct

__all__ = ["Claim", "Row", "CLAIMS", "build_rows", "heavy_inside"]

TEXTS = {
    "d2l": "D2L (forward) test accuracy",
    "l2d2l": "L2D2L (surrogate) accuracy",
    "validated": "Hamiltonian-validated accuracy",
    "alpha": "α, Δr_min of generated Δr, 0.20 ≤ w_avg ≤ 0.30 (Fig. 4g)",
    "bands": "heavy tail in every w_avg band (Note S4)",
    "realisations": "α against number of realisations (Note S3)",
    "weights": "W_j heavy tailed and linked to Δr (Fig. 5b)",
    "subsets": "high- vs low-accuracy subsets (Fig. 5c,d)",
    "robustness": "robustness gain under single-atom attacks (Fig. 6a,b)",
    "hubs": "hub atoms: non-democratic δ map (Fig. 6c,d)",
    "spectra": "distinct energy spectra (Note S5)",
    "one_pool": "1-pool vs 3-pool exponent (Note S6)",
    "seeds": "seeds not heavy tailed (Fig. 4g)",
}


def _accuracy_row(ctx: Context, key: str, paper: float, why: Callable) -> Finding:
    m = ctx.main.metrics
    value = m[key]
    retrieval = ctx.main.measures.retrieval_accuracy
    baselines = (
        f"displacement statistics {pct(m['baseline_accuracy'])}; "
        f"linear SPR {pct(m['linear_accuracy'])}"
    )
    if key != "d2l_accuracy":
        baselines += f"; nearest training structure {pct(retrieval)}"
    paper_1pool = {"d2l_accuracy": "d2l", "l2d2l_accuracy": "l2d2l"}.get(key, "validated")
    others = ctx.others(lambda r: pct(r.metrics[key]))
    others += f" (paper 1-pool {pct(PAPER_1POOL[paper_1pool])})"
    return Finding(
        pct(paper),
        pct(value),
        others,
        baselines,
        rules.accuracy(value, paper),
        why(ctx),
        {
            key: value,
            "baseline_accuracy": m["baseline_accuracy"],
            "linear_accuracy": m["linear_accuracy"],
            "retrieval_accuracy": retrieval,
        },
    )


def _why_d2l(ctx: Context) -> str:
    m = ctx.main.metrics
    d2l, base = m["d2l_accuracy"], m["baseline_accuracy"]
    if d2l <= base + 0.01:
        head = (
            f"the forward net ({pct(d2l)}) does not clearly beat the displacement-statistics "
            f"baseline ({pct(base)}): it has learned little beyond the disorder strength"
        )
    else:
        head = f"the forward net beats the displacement-statistics baseline by {100 * (d2l - base):.1f} points"
    return f"{head}; {ctx.scale_reason()}."


def _why_l2d2l(ctx: Context) -> str:
    m, t = ctx.main.metrics, ctx.main.config
    return (
        f"the inverse net reaches {pct(m['l2d2l_accuracy'])} through the frozen forward net after "
        f"{t.inverse_train.epochs} epochs (L2 scale {t.inverse_net.l2:g}); the forward net it is "
        f"judged by is itself at {pct(m['d2l_accuracy'])}; {ctx.scale_reason()}."
    )


def _why_validated(ctx: Context) -> str:
    m, ms = ctx.main.metrics, ctx.main.measures
    gap = m["l2d2l_accuracy"] - m["validated_accuracy"]
    parts = [
        f"surrogate {pct(m['l2d2l_accuracy'])} vs validated {pct(m['validated_accuracy'])} ({100 * gap:.1f} points)"
    ]
    if gap > 0.05:
        parts.append("the inverse net exploits the frozen forward net's errors")
    parts.append(
        f"generated max |Δ| {m['max_abs_displacement']:.2f} vs the training range "
        f"{ms.training_max:.2f} ({m['out_of_range_fraction']:.1%} of components outside it)"
    )
    parts.append(f"w_avg correlation target vs true {num(m['w_avg_correlation'], 2)}")
    best = max(RUNS[1:], key=lambda n: ctx.runs[n].metrics["validated_accuracy"])
    parts.append(
        f"best other run {LABELS[best]} {pct(ctx.runs[best].metrics['validated_accuracy'])}"
    )
    parts.append(f"retrieving the nearest training structure gives {pct(ms.retrieval_accuracy)}")
    return "; ".join(parts) + f"; {ctx.scale_reason()}."


def _tail_note(run: RunResult) -> str:
    """The tail's share beyond the training range, and the fixed-share measures of the run."""
    m = run.metrics
    off = run.measures.tail_out_of_range
    mark = (
        " (heavy†: mostly flung atoms, not counted)"
        if run.measures.fit.heavy and rules.off_range(off)
        else ""
    )
    xi = m.get("tail_xi", math.nan)
    hill = m.get("alpha_hill", math.nan)
    return (
        f"tail beyond the training range {pct(off)}{mark}; top 1 % of all Δr: α_hill {num(hill)}, "
        f"ξ {num(xi, 2)} [{num(m.get('tail_xi_lo', math.nan), 2)}, "
        f"{num(m.get('tail_xi_hi', math.nan), 2)}]"
    )


def _row_alpha(ctx: Context) -> Finding:
    ms = ctx.main.measures
    f = ms.fit
    measured = (
        f"{f.short()}, {f.tail()}; {f.comparisons()}; {ms.population_note}; {_tail_note(ctx.main)}"
    )
    why = (
        f"α {num(f.alpha)} (paper {PAPER_ALPHA}), Δr_min {num(f.xmin)} (paper {PAPER_XMIN}), "
        f"{f.tail()}; seeds of the same structures: {ms.seed_fit.short()}; generated max |Δ| "
        f"{ctx.main.metrics['max_abs_displacement']:.2f} vs training range {ms.training_max:.2f}"
    )
    if not ms.in_band:
        why += f"; {ms.population_note}"
    heavy = heavy_inside(ctx.main)
    if f.heavy and not heavy:
        why += f"; {pct(ms.tail_out_of_range)} of the heavy tail lies beyond the training range"
    return Finding(
        f"α {PAPER_ALPHA}, Δr_min {PAPER_XMIN} (3200 realisations), heavy tailed",
        measured,
        ctx.others(lambda r: f"{r.measures.fit.short()}, {r.measures.fit.tail()}"),
        f"seeds: {ms.seed_fit.short()}, {ms.seed_fit.tail()}",
        rules.alpha_band(heavy, f.alpha, f.xmin),
        why + ".",
        {
            "alpha_band": f.alpha,
            "xmin_band": f.xmin,
            "n_population": len(ms.population),
            "alpha_seed_band": ms.seed_fit.alpha,
            "heavy_band": float(heavy),
            "tail_out_of_range_band": ms.tail_out_of_range,
            "tail_xi": ctx.main.metrics.get("tail_xi", math.nan),
            "alpha_hill": ctx.main.metrics.get("alpha_hill", math.nan),
        },
    )


def _band_cells(bands: tuple) -> tuple[str, int, int, bool]:
    """(cell text, fitted bands, heavy bands, every fitted α inside the paper's range ± tolerance)."""
    parts, fitted, heavy, inside = [], 0, 0, True
    for label, count, fit, _ in bands:
        if fit is None:
            parts.append(f"{label}: n/a ({count} structures)")
            continue
        fitted += 1
        heavy += fit.heavy
        inside &= rules.band_alpha_inside(fit.alpha)
        parts.append(
            f"{label}: {count} structures, α {num(fit.alpha)}, {'heavy' if fit.heavy else 'not heavy'}"
        )
    return "; ".join(parts), fitted, heavy, inside


def _row_bands(ctx: Context) -> Finding:
    cell, fitted, heavy, inside = _band_cells(ctx.main.measures.bands)

    def summary(r: RunResult) -> str:
        _, n_fit, n_heavy, _ = _band_cells(r.measures.bands)
        return f"heavy in {n_heavy}/{n_fit} bands"

    why = (
        f"{heavy} of {fitted} bands with ≥ {MIN_STRUCTURES} structures are heavy tailed"
        f"{'' if inside else f', and not every α lies in {PAPER_BAND_ALPHAS[0]}–{PAPER_BAND_ALPHAS[1]} ± {ALPHA_TOLERANCE}'}"
        f" ({cell})"
    )
    if fitted < 2:
        why += f"; fewer than two bands hold {MIN_STRUCTURES} structures: the generated w_avg spread is narrow"
    seed_fits = [seed for *_, seed in ctx.main.measures.bands if seed is not None]
    return Finding(
        f"heavy tailed in every band, {PAPER_BAND_ALPHAS[0]} ≤ α ≤ {PAPER_BAND_ALPHAS[1]}",
        cell,
        ctx.others(summary),
        f"seeds of the same structures: heavy in {sum(f.heavy for f in seed_fits)}/{len(seed_fits)} bands",
        rules.bands(fitted, heavy, inside),
        why + ".",
        {f"alpha_band {label}": fit.alpha for label, _, fit, _ in ctx.main.measures.bands if fit}
        | {"bands_fitted": fitted, "bands_heavy": heavy},
    )


def _alpha_at(realisations: tuple, k: int) -> float:
    return next((f.alpha for n, f in realisations if n == k), math.nan)


def _row_realisations(ctx: Context) -> Finding:
    real = ctx.main.measures.realisations
    n, every = real[-1][0], real[-1][1].alpha

    def cell(r: RunResult) -> str:
        return ", ".join(f"α({k}) {num(f.alpha)}" for k, f in r.measures.realisations)

    a10 = _alpha_at(real, 10)
    if n < STABILITY_FACTOR * 10:
        why = f"only {n} structures in the population: too few to test stability at 10 (< {STABILITY_FACTOR * 10})"
    elif not math.isfinite(a10):
        why = f"α(10) is not available ({dict(real)[10].reason})"
    else:
        gap = abs(a10 - every)
        why = f"α(10) {num(a10)} vs α({n}) {num(every)}: differ by {gap:.2f} {'>' if gap > ALPHA_TOLERANCE else '≤'} {ALPHA_TOLERANCE}"
    seeds = ctx.main.designs["seed_displacements"][ctx.main.measures.population]
    seed10 = fit_tail(dr(seeds[: min(10, n)]), compare=False)
    return Finding(
        "α stable from ~10 realisations, Δr_min from ~100; one realisation already close",
        cell(ctx.main) + " (first k structures of the population)",
        ctx.others(cell),
        f"seeds: α({min(10, n)}) {num(seed10.alpha)}, α({n}) {num(ctx.main.measures.seed_fit.alpha)}",
        rules.realisations(n, {k: f.alpha for k, f in real}, every),
        why + ".",
        {f"alpha_k{k}": f.alpha for k, f in real}
        | {"realisations_gap": abs(a10 - every) if n >= STABILITY_FACTOR * 10 else math.nan},
    )


@dataclass(frozen=True)
class Claim:
    key: str
    text: str  # the claim as the table's first column says it
    rule: Callable[..., str]  # pure: measured numbers → verdict (study.reproduce.rules)
    rule_text: str  # the rule as the report states it
    build: Callable[[Context], Finding]  # measure on the runs, decide with ``rule``, explain


def _claim(key: str, rule: Callable[..., str], rule_text: str, build) -> Claim:
    return Claim(key, TEXTS[key], rule, rule_text, build)


def _accuracy(metric: str, paper: float, why: Callable) -> Callable:
    return lambda ctx: _accuracy_row(ctx, metric, paper, why)


CLAIMS: tuple[Claim, ...] = (
    _claim(
        "d2l", rules.accuracy, rules.ACCURACY_TEXT, _accuracy("d2l_accuracy", PAPER_D2L, _why_d2l)
    ),
    _claim(
        "l2d2l",
        rules.accuracy,
        rules.ACCURACY_TEXT,
        _accuracy("l2d2l_accuracy", PAPER_L2D2L, _why_l2d2l),
    ),
    _claim(
        "validated",
        rules.accuracy,
        rules.ACCURACY_TEXT,
        _accuracy("validated_accuracy", PAPER_VALIDATED, _why_validated),
    ),
    _claim("alpha", rules.alpha_band, rules.ALPHA_TEXT, _row_alpha),
    _claim("bands", rules.bands, rules.BANDS_TEXT, _row_bands),
    _claim("realisations", rules.realisations, rules.REALISATIONS_TEXT, _row_realisations),
    _claim("weights", rules.weights, rules.WEIGHTS_TEXT, row_weights),
    _claim("subsets", rules.subsets, rules.SUBSETS_TEXT, row_subsets),
    _claim("robustness", rules.robustness, rules.ROBUSTNESS_TEXT, row_robustness),
    _claim("hubs", rules.hubs, rules.HUBS_TEXT, row_hubs),
    _claim("spectra", rules.spectra, rules.SPECTRA_TEXT, row_spectra),
    _claim("one_pool", rules.one_pool, rules.ONE_POOL_TEXT, row_one_pool),
    _claim("seeds", rules.seeds, rules.SEEDS_TEXT, row_seeds),
)


def build_rows(scale: str, runs: dict[str, RunResult]) -> list[Row]:
    """The table: one row per claim of :data:`CLAIMS`, in that order."""
    ctx = Context(scale, runs)
    return [Row(claim.text, claim.rule_text, claim.build(ctx)) for claim in CLAIMS]
