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
    PAPER_ALPHA_1POOL,
    PAPER_BAND_ALPHAS,
    PAPER_D2L,
    PAPER_L2D2L,
    PAPER_VALIDATED,
    PAPER_XMIN,
    RUNS,
    STABILITY_FACTOR,
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


def heavy_inside(run: RunResult) -> bool:
    """The run's population tail is heavy, and not mostly atoms beyond the training range
    (:data:`rules.OFF_RANGE`): only such a tail counts for a heavy-tail claim."""
    return run.measures.fit.heavy and not rules.off_range(run.measures.tail_out_of_range)


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
        why = f"α(10) {num(a10)} vs α({n}) {num(every)}: differ by {abs(a10 - every):.2f} > {ALPHA_TOLERANCE}"
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


def _row_weights(ctx: Context) -> Finding:
    ms = ctx.main.measures
    wf, init = ms.weight_fit, ms.initial_weight_fit
    rho, p = ms.weight_link
    linked = rules.linked(rho, p)
    measured = (
        f"W_j {wf.short('W_min')}, {wf.tail()}; {wf.comparisons()}; "
        f"Spearman ρ(W_j, mean Δr_j) {num(rho, 2)} (p {num(p, 2)})"
    )
    parts = [
        f"W_j {wf.short('W_min')} is {wf.tail()}",
        f"at initialisation the same head had {init.short('W_min')}, {init.tail()}",
    ]
    if not linked:
        parts.append(
            f"ρ(W_j, mean Δr_j) {num(rho, 2)} (p {num(p, 2)}): the weight strength of an atom does not predict its displacement"
        )
    return Finding(
        "W_j heavy tailed, mirroring Δr (same inflection point)",
        measured,
        ctx.others(
            lambda r: (
                f"{r.measures.weight_fit.short('W_min')}, ρ {num(r.measures.weight_link[0], 2)}"
            )
        ),
        f"untrained head (same seed): {init.short('W_min')}, {init.tail()}",
        rules.weights(wf.power_law_kept, wf.heavy, rho, p),
        "; ".join(parts) + ".",
        {
            "weight_alpha": wf.alpha,
            "weight_alpha_initial": init.alpha,
            "weight_dr_spearman": rho,
            "weight_heavy": float(wf.power_law_kept),
        },
    )


def _row_subsets(ctx: Context) -> Finding:
    sub = ctx.main.measures.subsets
    (hi_idx, hi, hi_seed), (lo_idx, lo, lo_seed) = sub["high"], sub["low"]

    def cell(r: RunResult) -> str:
        s = r.measures.subsets
        return f"high α {num(s['high'][1].alpha)}, low α {num(s['low'][1].alpha)}"

    why = (
        f"high subset {hi.short()} ({hi.tail()}), low subset {lo.short()} ({lo.tail()}); "
        f"|Δα| {num(abs(hi.alpha - lo.alpha), 2)}; {sub['note']}"
    )
    return Finding(
        "both power law with similar α (194 ≥ 84 %, 191 ≤ 69 % of 3200)",
        f"high: {hi_idx.size} structures, {hi.short()}, {hi.tail()}; low: {lo_idx.size} structures, "
        f"{lo.short()}, {lo.tail()}; {sub['note']}",
        ctx.others(cell),
        f"seeds of the same structures: high α {num(hi_seed.alpha)}, low α {num(lo_seed.alpha)}",
        rules.subsets(hi.heavy, lo.heavy, hi.alpha, lo.alpha),
        why + ".",
        {
            "alpha_high_accuracy": hi.alpha,
            "alpha_low_accuracy": lo.alpha,
            "n_high_accuracy": hi_idx.size,
            "n_low_accuracy": lo_idx.size,
            "subsets_heavy": float(hi.heavy and lo.heavy),
        },
    )


def _row_robustness(ctx: Context) -> Finding:
    r, t = ctx.main.measures.robustness, ctx.main.config
    seed_dw, gen_dw = float(r.seed_curve.mean()), float(r.generated_curve.mean())
    gain = r.gain
    isolated = ctx.main.metrics.get("isolated_fraction", math.nan)
    why = (
        f"gain {num(gain)} (geometric mean, log10 {r.log10_gain:+.2f}; m < 32: "
        f"{num(r.small_m_gain)}) over {r.per_pair.size} pairs at ρa {t.score.attack_strength:g}: "
        f"mean |Δw| seeds {seed_dw:.2e} vs generated {gen_dw:.2e}; isolated atoms "
        f"{pct(isolated)}; the generated Δr here is {ctx.main.measures.fit.tail()}"
    )
    return Finding(
        "Δw 2–4 orders of magnitude smaller (gain 1e2–1e4)",
        f"gain {num(gain)} (geometric mean, log10 {r.log10_gain:+.2f}; m < 32: "
        f"{num(r.small_m_gain)}; {r.per_pair.size} pairs, ρa {t.score.attack_strength:g}; "
        f"isolated atoms {pct(isolated)})",
        ctx.others(lambda x: f"gain {num(x.metrics['robustness_gain'])}"),
        f"mean |Δw| seeds {seed_dw:.2e}, generated {gen_dw:.2e}",
        rules.robustness(gain),
        why + ".",
        {
            "robustness_gain": gain,
            "robustness_log10_gain": r.log10_gain,
            "robustness_small_m": r.small_m_gain,
            "mean_dw_seed": seed_dw,
            "mean_dw_generated": gen_dw,
        },
    )


def _row_hubs(ctx: Context) -> Finding:
    m = ctx.main.metrics
    g, s = m["hub_gini"], m["hub_gini_seed"]
    why = (
        f"Gini of δ generated {g:.3f} vs seeds {s:.3f}: the generated structures' response is "
        f"{'no less' if g <= s else 'only slightly less'} democratic than the seeds'"
    )
    return Finding(
        "generated non-democratic (hubs), seeds democratic",
        f"Gini of δ over atoms {g:.3f} (mean of {ctx.main.config.score.n_attacked} structures)",
        ctx.others(lambda r: f"{r.metrics['hub_gini']:.3f}"),
        f"seeds {s:.3f}",
        rules.hubs(g, s),
        why + ".",
        {"hub_gini": g, "hub_gini_seed": s},
    )


def _row_spectra(ctx: Context) -> Finding:
    ms = ctx.main.measures
    d, ref = ms.spectra.dos_distance, ms.spectra_reference
    relation = (
        f"only {d / ref:.2f}× as far from their seeds as another seed of the same localisation"
        if math.isfinite(d / ref) and d > ref
        else "no further from their seeds than another seed of the same localisation"
    )
    why = (
        f"levels move {num(d)} t0 from their seed's, while two seeds of nearest w_avg differ by "
        f"{num(ref)} t0: the generated spectra are {relation} ({ms.spectra_note})"
    )
    return Finding(
        "similar localisation, distinct spectra (more discrete states)",
        f"mean level shift {num(d)} t0 ({ms.spectra_note})",
        ctx.others(lambda r: f"{num(r.measures.spectra.dos_distance)} t0"),
        f"seed vs seed of nearest w_avg {num(ref)} t0",
        rules.spectra(d, ref),
        why + ".",
        {
            "dos_distance": d,
            "dos_distance_reference": ref,
            "spectra_ratio": d / ref if ref > 0 else math.nan,
        },
    )


def _row_one_pool(ctx: Context) -> Finding:
    three, one = ctx.main.measures.fit, ctx.one_pool.measures.fit
    m1 = ctx.one_pool.metrics
    heavy_3, heavy_1 = heavy_inside(ctx.main), heavy_inside(ctx.one_pool)
    why = (
        f"3-pool {three.short()} ({three.tail()}), 1-pool {one.short()} ({one.tail()}); "
        f"1-pool W_j {ctx.one_pool.measures.weight_fit.short('W_min')}; tails beyond the "
        f"training range: 3-pool {pct(ctx.main.measures.tail_out_of_range)}, 1-pool "
        f"{pct(ctx.one_pool.measures.tail_out_of_range)}"
    )
    return Finding(
        f"α ≈ {PAPER_ALPHA_1POOL} (1-pool) vs {PAPER_ALPHA} (3-pool), heavy tail in both",
        f"3-pool {three.short()}, {three.tail()}; 1-pool {one.short()}, {one.tail()}",
        f"1-pool D2L {pct(m1['d2l_accuracy'])}, L2D2L {pct(m1['l2d2l_accuracy'])}, validated "
        f"{pct(m1['validated_accuracy'])} (paper {pct(PAPER_1POOL['d2l'])}, "
        f"{pct(PAPER_1POOL['l2d2l'])}, {pct(PAPER_1POOL['validated'])})",
        f"seeds: {ctx.main.measures.seed_fit.short()}",
        rules.one_pool(heavy_3, heavy_1, three.alpha, one.alpha),
        why + ".",
        {
            "alpha_1pool": one.alpha,
            "xmin_1pool": one.xmin,
            "alpha_3pool": three.alpha,
            "one_pool_heavy": float(heavy_3 and heavy_1),
        },
    )


def _row_seeds(ctx: Context) -> Finding:
    sf, gen = ctx.main.measures.seed_fit, ctx.main.measures.fit
    why = (
        f"seed Δr {sf.short()}, {sf.tail()}; {sf.comparisons()}: no alternative is significantly "
        f"better than the power law on {sf.law.n_tail if sf.law else 0} tail values"
    )
    return Finding(
        "seeds normal-random (Eq. 5), no power law",
        f"{sf.short()}, {sf.tail()}; {sf.comparisons()}",
        "the same seeds in every run (the test targets)",
        f"generated: {gen.short()}, {gen.tail()}",
        rules.seeds(sf.law is not None, sf.verdict, bool(sf.preferred()), sf.alpha, gen.alpha),
        why + ".",
        {
            "alpha_seed": sf.alpha,
            "xmin_seed": sf.xmin,
            "alpha_generated": gen.alpha,
            "seed_tail_ruled_out": float(
                sf.law is not None and (sf.verdict == "not heavy" or bool(sf.preferred()))
            ),
        },
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
    _claim("weights", rules.weights, rules.WEIGHTS_TEXT, _row_weights),
    _claim("subsets", rules.subsets, rules.SUBSETS_TEXT, _row_subsets),
    _claim("robustness", rules.robustness, rules.ROBUSTNESS_TEXT, _row_robustness),
    _claim("hubs", rules.hubs, rules.HUBS_TEXT, _row_hubs),
    _claim("spectra", rules.spectra, rules.SPECTRA_TEXT, _row_spectra),
    _claim("one_pool", rules.one_pool, rules.ONE_POOL_TEXT, _row_one_pool),
    _claim("seeds", rules.seeds, rules.SEEDS_TEXT, _row_seeds),
)


def build_rows(scale: str, runs: dict[str, RunResult]) -> list[Row]:
    """The table: one row per claim of :data:`CLAIMS`, in that order."""
    ctx = Context(scale, runs)
    return [Row(claim.text, claim.rule_text, claim.build(ctx)) for claim in CLAIMS]
