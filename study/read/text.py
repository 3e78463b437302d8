"""The study report as a person reads it in a terminal: the few columns a reader needs first, each
number beside its 95 % interval, at most :data:`WIDTH` characters a line (``report/trials.csv``
has every column). Also the interval a row has for a metric, which the figures draw.
"""

from __future__ import annotations

import math

import numpy as np

from study.files.params import PARAMS, mark

__all__ = [
    "WIDTH",
    "INTEGERS",
    "cell",
    "interval",
    "overlapping",
    "print_table",
    "print_confirmations",
    "print_effects",
    "print_variance",
    "print_ablations",
]


INTEGERS = frozenset({"n_tail", "n_seeds", "confirmed_n_seeds", "stages", "fc", "batch_size"})


def cell(key: str, value: object) -> object:
    """CSV cells as a reader wants them: integers without '.0', no 'nan'."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if key in INTEGERS and value.is_integer():
            return int(value)
    return value


def interval(row: dict, metric: str, *, confirmed: bool = True) -> tuple[float, float]:
    """The 95 % interval a row has for ``metric``: its confirmation's (fresh seeds) when it was
    confirmed and ``confirmed``, else its own (t over seeds, or bootstrap over structures / pairs
    for one seed); (nan, nan) when it has none."""
    for prefix in ("confirmed_", "") if confirmed else ("",):
        low, high = row.get(f"{prefix}{metric}_lo"), row.get(f"{prefix}{metric}_hi")
        if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
            return float(low), float(high)
    return math.nan, math.nan


WIDTH = 120  # the widest line the terminal report prints
BASELINES = (  # dataset-level baselines: the same for every trial, printed once
    ("baseline_accuracy", "statistics"),
    ("oracle_accuracy", "(ρ, σ) oracle"),
    ("structure_baseline_accuracy", "structure"),
    ("design_baseline_accuracy", "Eq. 5 designer"),
    ("retrieval_accuracy", "retrieval"),
)


def _say(text: str, indent: str = "    ") -> None:
    """Print ``text`` wrapped at :data:`WIDTH` characters, continuation lines indented."""
    import textwrap

    print(textwrap.fill(text, width=WIDTH, subsequent_indent=indent, break_long_words=True))


SHORT_VERDICT = {"too short to tell": "too short", "": "no fit"}
OFF_RANGE = 0.5  # share of the tail beyond the training range above which the report marks α


def _off_range(row: dict) -> bool:
    return row.get("tail_out_of_range", 0.0) > OFF_RANGE


def _architecture(row: dict) -> str:
    """``p2 16/32 fc128 +b avg r10``: pooling stages, filters, FC width, then the marks of the
    searched parameters that have one (:func:`study.files.params.mark`)."""
    fc = row.get("fc")
    fc = f" fc{int(fc)}" if isinstance(fc, (int, float)) and math.isfinite(fc) else ""
    marks = "".join(mark(p.name, row.get(p.name)) for p in PARAMS if p.marks or p.mark_format)
    return f"p{row['stages']} {row.get('filters', '')}{fc}{marks}"


def _with_interval(value: float, low: float, high: float, digits: int = 3) -> str:
    if not math.isfinite(value):
        return "—"
    text = f"{value:.{digits}g}"
    if math.isfinite(low) and math.isfinite(high):
        text += f" [{low:.{digits}g}, {high:.{digits}g}]"
    return text


def _skill(row: dict) -> str:
    value, se = row.get("validated_skill", math.nan), row.get("validated_skill_se", math.nan)
    if not math.isfinite(value):
        return "—"
    return f"{value:+.3f}" + (f"±{se:.3f}" if math.isfinite(se) else "")


def overlapping(done: list[dict], front: np.ndarray, objectives: list[str]) -> dict[str, list]:
    """Front member → the other front members whose intervals overlap its own on every objective
    (the study cannot tell them apart); members without intervals on some objective are left out."""
    members = [d for d, on in zip(done, front, strict=True) if on]
    out: dict[str, list] = {}
    for a in members:
        for b in members:
            if a is b:
                continue
            pairs = [(interval(a, o), interval(b, o)) for o in objectives]
            known = all(math.isfinite(x[0]) and math.isfinite(y[0]) for x, y in pairs)
            if known and all(x[0] <= y[1] and y[0] <= x[1] for x, y in pairs):
                out.setdefault(a["trial"], []).append(b["trial"])
    return out


def print_table(name, rows, done, front, objectives, modes, overlaps) -> None:
    finished = [r for r in rows if r["status"] == "FINISHED"]
    collapsed = [r for r in finished if r.get("collapsed", 0) >= 1]
    failed = sum(r["status"] == "FAILED" for r in rows)
    seeds = sorted({int(r.get("n_seeds", 1)) for r in finished}) or [1]
    aims = ", ".join(f"{m} {o}" for o, m in zip(objectives, modes, strict=True))
    print(
        f"study {name}: {len(finished)} of {len(rows)} trials finished ({len(collapsed)} "
        f"collapsed, {failed} failed), {'/'.join(map(str, seeds))} seed(s) each; front on {aims}"
    )
    header = (
        f"{'':2}{'trial':<10}{'architecture':<20}{'mode':<10}{'valid.':>7}  {'skill':<13}"
        f"{'α [95 %]':<22}{'tail':<11}{'gain [95 %]':<20}"
    )
    print(header.rstrip())
    for r, on_front in zip(done, front, strict=True):
        mark = ("*" if on_front else " ") + ("~" if r["trial"] in overlaps else " ")
        alpha = _with_interval(r.get("alpha", math.nan), *interval(r, "alpha", confirmed=False))
        gain = _with_interval(
            r.get("robustness_gain", math.nan), *interval(r, "robustness_gain", confirmed=False), 2
        )
        verdict = SHORT_VERDICT.get(r.get("alpha_verdict", ""), r.get("alpha_verdict", ""))
        if _off_range(r):
            verdict = f"{verdict[:9]}†"
        line = (
            f"{mark}{r['trial'][-8:]:<10}{_architecture(r)[:19]:<20}{r['inverse_mode'][:9]:<10}"
            f"{r.get('validated_accuracy', math.nan):>7.3f}  {_skill(r):<13}{alpha[:21]:<22}"
            f"{verdict[:10]:<11}{gain[:19]:<20}"
        )
        print(line.rstrip())
    if overlaps:
        pairs = "; ".join(
            f"{a[-8:]} ~ {', '.join(b[-8:] for b in bs)}" for a, bs in overlaps.items()
        )
        _say(f"~ intervals overlap on every objective, not told apart: {pairs}")
    off = [r for r in done if _off_range(r)]
    if off:
        shares = ", ".join(f"{r['trial'][-8:]} {r['tail_out_of_range']:.0%}" for r in off)
        _say(
            "†: most of the fitted tail's atoms lie beyond the training range, where the forward "
            f"net never saw a structure and Eq. 5 never makes one ({shares}); read that α as "
            "atoms flung out, not as a validated tail"
        )
    refined = [r for r in done if "net_validated_accuracy" in r]  # the nets' own, before rN
    if refined:
        own = ", ".join(
            f"{r['trial'][-8:]} {r['net_validated_accuracy']:.3f}"
            for r in refined
            if math.isfinite(r.get("net_validated_accuracy", math.nan))
        )
        _say(
            "rN: designs refined by N steps through the true Hamiltonian; their validated "
            "accuracy, α and gain are of the refined structures"
            + (f" (the net's own designs validated {own})" if own else "")
        )
    if finished:
        first = finished[0]
        cells = [f"{label} {first[key]:.3f}" for key, label in BASELINES if key in first]
        _say("baselines (the same for every trial): " + ", ".join(cells))
    for r in collapsed:
        _say(f"collapsed, left off the front: {r['trial'][-8:]}: {r.get('collapsed_reason')}")


def print_confirmations(done: list[dict], objectives: list[str]) -> None:
    confirmed = [r for r in done if math.isfinite(r.get("confirmed_n_seeds", math.nan))]
    if not confirmed:
        return
    _say("confirmed with fresh seeds (mean [95 % interval over seeds]; the search's value after):")
    for r in confirmed:
        cells = []
        for o in objectives:
            low, high = interval(r, o)
            mean = r.get(f"confirmed_{o}", math.nan)
            cells.append(f"{o} {_with_interval(mean, low, high)} ({r.get(o, math.nan):.3g})")
        n = int(r["confirmed_n_seeds"])
        _say(f"  {r['trial'][-8:]} ({n} seeds): {'; '.join(cells)}")


def print_effects(effects, ranked: dict, n_trials: int, objectives: list[str]) -> None:
    if ranked:
        print(f"importance (fANOVA over {n_trials} search trials):")
        for objective in objectives:
            top = ", ".join(f"{p} {v:.2f}" for p, v in list(ranked[objective].items())[:5])
            _say(f"  {objective}: {top}")
    else:
        print(f"importance: not estimated ({n_trials} complete search trials, fewer than 4)")
    resolved = [e for e in effects if e.verdict == "resolved"]
    counts = {v: sum(e.verdict == v for e in effects) for v in ("resolved", "within noise")}
    _say(
        f"level differences and slopes: {counts['resolved']} resolved, {counts['within noise']} "
        f"within noise, {len(effects) - sum(counts.values())} too few to tell "
        "(report/effects.csv)"
    )
    for effect in resolved[:8]:
        _say(f"  {effect.line()}")
    confounded = sorted(
        {
            " = ".join(sorted({e.param, *e.confounded_with.split(", ")}))
            for e in effects
            if e.confounded_with
        }
    )
    if confounded:
        _say(
            f"confounded (their levels split the trials the same way; one effect, not two): "
            f"{'; '.join(confounded)}"
        )


def print_variance(variance) -> None:
    """Where each measure's spread lies (:func:`study.read.effects.variance_components`)."""
    made = [v for v in variance if v.icc.configurations >= 2]
    if not made:
        _say(
            "variance between configurations: not estimated (under two configurations with two "
            "seed runs or more: search.seeds, `confirm` or `ablate` make them)",
            indent="  ",
        )
        return
    print("variance between configurations (ICC(1); 0.5 = as much between as within):")
    for v in variance:
        _say(f"  {v.line()}")
    exponents = [v for v in made if v.objective in EXPONENTS]
    if exponents and not any(v.icc.interval.low >= 0.5 for v in exponents):
        _say(
            "  no exponent-type measure tells this study's configurations apart from their seeds "
            "(at reference size none told pooling depths apart: docs/studies/noise.md): read a "
            "difference in α as a draw until confirmed, raced or ablated",
            indent="    ",
        )


EXPONENTS = ("alpha", "alpha_hill", "tail_xi", "alpha_hill_inside", "tail_xi_inside")


def print_ablations(ablations) -> None:
    """Each ablation's one-way comparison (:mod:`study.read.ablation`), one block per objective."""
    seen = set()
    for c in ablations:
        if c.experiment not in seen:
            seen.add(c.experiment)
            print(f"{c.experiment}: trial {c.base}, {c.vary} varied (report/ablation.csv):")
        for line in c.lines():
            _say(line, indent="      ")
