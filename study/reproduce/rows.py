"""The row builders of the claims about the designs' structure (Figs. 5–6, Notes S5–S6): W_j and
its link to Δr, high- against low-accuracy subsets, robustness, hubs, spectra, the 1-pool net
and the seeds. Each measures on the runs, decides with its rule (:mod:`study.reproduce.rules`) and
explains; the registry (:mod:`study.reproduce.claims`) lists them."""

from __future__ import annotations

import math

from study.reproduce import rules
from study.reproduce.measure import RunResult
from study.reproduce.paper import PAPER_1POOL, PAPER_ALPHA, PAPER_ALPHA_1POOL
from study.reproduce.table import Context, Finding, num, pct

__all__ = [
    "heavy_inside",
    "row_weights",
    "row_subsets",
    "row_robustness",
    "row_hubs",
    "row_spectra",
    "row_one_pool",
    "row_seeds",
]


def heavy_inside(run: RunResult) -> bool:
    """The run's population tail is heavy, and not mostly atoms beyond the training range
    (:data:`rules.OFF_RANGE`): only such a tail counts for a heavy-tail claim."""
    return run.measures.fit.heavy and not rules.off_range(run.measures.tail_out_of_range)


def row_weights(ctx: Context) -> Finding:
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


def row_subsets(ctx: Context) -> Finding:
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


def row_robustness(ctx: Context) -> Finding:
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


def row_hubs(ctx: Context) -> Finding:
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


def row_spectra(ctx: Context) -> Finding:
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


def row_one_pool(ctx: Context) -> Finding:
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
            "heavy_1pool": float(heavy_1),
            "heavy_3pool": float(heavy_3),
            "off_range_1pool": ctx.one_pool.measures.tail_out_of_range,
            "alpha_hill_1pool": m1.get("alpha_hill", math.nan),
            "alpha_hill_3pool": ctx.main.metrics.get("alpha_hill", math.nan),
            "tail_xi_1pool": m1.get("tail_xi", math.nan),
            "tail_xi_3pool": ctx.main.metrics.get("tail_xi", math.nan),
        },
    )


def row_seeds(ctx: Context) -> Finding:
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
