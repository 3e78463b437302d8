"""Where the seed spread comes from, and what buys signal per CPU-second.

For each configuration (pooling depth 1, 2, 3 of both nets, the rest of the preset, inverse mode
``--mode``, unbounded output), whole :func:`trainables.run_trial` runs on one dataset, two at a
time on one thread each:

[1] sources, ``--runs`` R runs each, one source of randomness varied and the others held:
    ``all`` every source (R independent trials), ``forward`` the forward net's weights, dropout
    and batch order, ``inverse`` the inverse net's (the forward net trained once and reused),
    ``targets`` which test targets are designed (a permutation of the test split), and the
    estimator's x_min, held at one common value for every run of every configuration (α refitted
    there: ``alpha_xmin``). For every measure: the within-configuration standard deviation under
    each source and its share of the ``all`` variance (shares need not add to 1: sources interact,
    and each is estimated from R runs), and the ICC(1) over configurations of the ``all`` runs.
[2] signal per CPU-second, on ``all`` runs: the preset as it is, twice the forward epochs, twice
    the inverse epochs, the output bound, twice the designs, and the tail share of alpha_hill and
    tail_xi at 0.3 % and 3 % (recomputed from the same designs, free). For each: the ICC over
    configurations, the seeds a level needed to resolve the largest difference between
    configurations with 80 % power, and what that costs in CPU-seconds (seeds × levels × seconds
    a run).

Usage: python benchmarks/noise_sources.py [--preset reference] [--runs 4] [--mode surrogate]
       [--data DIR] [--skip-variants] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from timing import preset_splits, preset_trial, print_machine

FILTERS = (16, 32, 64, 128)
DEPTHS = [(d, FILTERS[:d]) for d in (1, 2, 3)]  # (stages, filters); --depths picks others
MEASURES = (
    "alpha",
    "alpha_xmin",
    "alpha_hill",
    "tail_xi",
    "alpha_hill_inside",
    "tail_xi_inside",
    "validated_skill",
)
SOURCES = ("all", "forward", "inverse", "targets")
BASE = 100  # the held trial seed; run r of a varied source uses seed BASE + 1 + r


def _config(preset: str, depth: int, mode: str, variant: str):
    trial = preset_trial(preset)
    stages, filters = DEPTHS[depth]
    nets = {
        k: dataclasses.replace(getattr(trial, k), stages=stages, filters=filters)
        for k in ("forward", "inverse_net")
    }
    inverse = dataclasses.replace(trial.inverse, mode=mode, bound=variant == "bound")
    trial = dataclasses.replace(trial, **nets, inverse=inverse)
    if variant == "forward x2":
        ft = trial.forward_train
        trial = dataclasses.replace(
            trial, forward_train=dataclasses.replace(ft, epochs=2 * ft.epochs)
        )
    if variant == "inverse x2":
        it = trial.inverse_train
        trial = dataclasses.replace(
            trial, inverse_train=dataclasses.replace(it, epochs=2 * it.epochs)
        )
    if variant == "designs x2":
        n = min(2 * trial.score.n_generated, trial.data.n_test)
        trial = dataclasses.replace(trial, score=dataclasses.replace(trial.score, n_generated=n))
    return trial


def _seeds(source: str, r: int):
    from trainables.trial import TrialSeeds

    base, varied = TrialSeeds.spawn(BASE), TrialSeeds.spawn(BASE + 1 + r)
    if source == "all":
        return varied
    if source == "forward":
        return dataclasses.replace(
            base, forward_net=varied.forward_net, forward_batches=varied.forward_batches
        )
    if source == "inverse":
        return dataclasses.replace(
            base, inverse_net=varied.inverse_net, inverse_batches=varied.inverse_batches
        )
    return base


def _splits(trial, root: str, order: int | None) -> dict:
    """The preset's splits; with ``order``, the test split permuted by it (other targets first)."""
    from physics import Split

    splits = preset_splits(trial, root)
    if order is None:
        return splits
    test = splits["test"]
    pick = np.random.default_rng(1000 + order).permutation(len(test[0]))
    return splits | {"test": Split(*(np.asarray(a)[pick] for a in test))}


_FORWARD: dict = {}  # (depth, preset, mode) → the forward net trained with the held seeds
_KNOWN: dict = {}  # (preset, test order, designs) → the dataset baselines of those targets


def _baselines(preset: str, trial, splits: dict, order: int | None) -> dict:
    """The dataset baselines for this run's targets: the design baseline and validated skill are
    per target, so a permuted test split needs its own (computed once per process)."""
    from trainables.baseline import dataset_baselines

    key = (preset, order, trial.score.n_generated)
    if key not in _KNOWN:
        _KNOWN[key] = dataset_baselines(trial, splits)
    return _KNOWN[key]


def one_run(preset, root, depths, depth, mode, source, r, variant) -> dict:
    import torch

    DEPTHS[:] = depths  # a spawned worker does not see the parent's --depths
    from trainables.trial import TrialSeeds, run_trial, train_forward

    torch.set_num_threads(1)
    trial = _config(preset, depth, mode, variant)
    order = r if source in ("all", "targets") else None
    splits = _splits(trial, root, order)
    known = _baselines(preset, trial, splits, order)
    forward = None
    start = time.process_time()
    if source in ("inverse", "targets"):  # the held forward net: trained once per process
        key = (depth, preset, mode)
        if key not in _FORWARD:
            _FORWARD[key] = train_forward(
                trial,
                splits,
                seeds=TrialSeeds.spawn(BASE),
                device=torch.device("cpu"),
                report=lambda row: None,
            )[0]
        forward = _FORWARD[key]
    result = run_trial(
        trial,
        lambda row: None,
        data=splits,
        baselines=known,
        forward=forward,
        seeds=_seeds(source, r),
    )
    seconds = time.process_time() - start
    metrics = {k: float(result.metrics.get(k, math.nan)) for k in MEASURES if k != "alpha_xmin"}
    return {
        "depth": depth,
        "source": source,
        "variant": variant,
        "run": r,
        "seconds": seconds,
        "xmin": float(result.metrics.get("xmin", math.nan)),
        "dr": _dr(result.designs.displacements),
        "inside": _inside(result.designs.displacements, splits["train"][0]),
        **metrics,
    }


def _dr(displacements: np.ndarray) -> np.ndarray:
    return np.hypot(displacements[:, 0], displacements[:, 1]).ravel()


def _inside(displacements: np.ndarray, train: np.ndarray) -> np.ndarray:
    from trainables.training import training_range

    return np.abs(displacements).max(axis=1).reshape(-1) <= training_range(train)


def _refit_xmin(rows: list[dict]) -> None:
    """alpha_xmin: α refitted at one common x_min, the median of the ``all`` runs' own."""
    import analysis

    xmins = [r["xmin"] for r in rows if r["source"] == "all" and math.isfinite(r["xmin"])]
    common = float(np.median(xmins)) if xmins else math.nan
    for row in rows:
        try:
            fit = analysis.fit_power_law(np.asarray(row["dr"]), xmin=common, compare=False)
            row["alpha_xmin"] = float(fit.alpha)
        except ValueError:
            row["alpha_xmin"] = math.nan
    print(f"    common x_min of alpha_xmin: {common:.4f}", flush=True)


def _shares(rows: list[dict], share: float) -> list[dict]:
    """The same designs' alpha_hill and tail_xi at another tail share."""
    from analysis.tails import hill_alpha, moment_xi

    out = []
    for row in rows:
        dr, inside = np.asarray(row["dr"]), np.asarray(row["inside"])
        new = dict(row, variant=f"share {share:g}")
        for suffix, x in (("", dr), ("_inside", dr[inside])):
            for name, estimate in (("alpha_hill", hill_alpha), ("tail_xi", moment_xi)):
                try:
                    new[f"{name}{suffix}"] = float(estimate(x, share=share).value)
                except ValueError:
                    new[f"{name}{suffix}"] = math.nan
        new["seconds"] = row["seconds"]
        out.append(new)
    return out


def _groups(rows, measure):
    by = {}
    for row in rows:
        value = row.get(measure, math.nan)
        if math.isfinite(value):
            by.setdefault(row["depth"], []).append(value)
    return [by[d] for d in sorted(by)]


def _within_sd(groups) -> float:
    variances = [np.var(g, ddof=1) for g in groups if len(g) > 1]
    return float(math.sqrt(np.mean(variances))) if variances else math.nan


def _sources_table(rows: list[dict]) -> dict:
    from analysis.uncertainty import icc1

    table = {}
    print("[1] within-configuration sd by source (share of the 'all' variance):")
    header = (
        f"    {'measure':<18}" + "".join(f"{s:>20}" for s in SOURCES) + f"{'ICC over depths':>26}"
    )
    print(header)
    for measure in MEASURES:
        sds = {
            s: _within_sd(_groups([r for r in rows if r["source"] == s], measure)) for s in SOURCES
        }
        icc = icc1(_groups([r for r in rows if r["source"] == "all"], measure))
        cells = []
        for s in SOURCES:
            share = (sds[s] / sds["all"]) ** 2 if sds["all"] > 0 else math.nan
            cells.append(f"{sds[s]:9.3g} ({share:5.0%})" if s != "all" else f"{sds[s]:9.3g}       ")
        span = f"{icc.value:5.2f} [{icc.interval.low:.2f}, {icc.interval.high:.2f}]"
        print(f"    {measure:<18}" + "".join(f"{c:>20}" for c in cells) + f"{span:>26}")
        table[measure] = {"sd": sds, "icc": [icc.value, icc.interval.low, icc.interval.high]}
    free, fixed = table["alpha"]["sd"]["all"], table["alpha_xmin"]["sd"]["all"]
    share = 1 - (fixed / free) ** 2 if free > 0 else math.nan
    print(
        f"    x_min: alpha's within-configuration sd is {free:.3g} with x_min fitted per run and "
        f"{fixed:.3g} with one common x_min: the choice of x_min's share {share:.0%}"
    )
    table["xmin_share"] = share
    return table


def _signal_table(rows: list[dict]) -> dict:
    """Per variant and measure: ICC over depths, seeds a level for the largest depth difference,
    CPU-seconds that costs."""
    from analysis.uncertainty import icc1, seeds_for_power

    table = {}
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    print(f"[2] signal per CPU-second (all sources varied; {len(DEPTHS)} depth levels):")
    print(
        f"    {'variant':<14}{'measure':<18}{'ICC [95 %]':>22}{'largest gap':>13}"
        f"{'seeds/level':>13}{'s a run':>9}{'CPU-s to resolve':>18}"
    )
    for variant in variants:
        mine = [r for r in rows if r["variant"] == variant]
        seconds = float(np.mean([r["seconds"] for r in mine]))
        for measure in MEASURES:
            groups = _groups(mine, measure)
            if len(groups) < 2:
                continue
            icc = icc1(groups)
            means = [np.mean(g) for g in groups]
            gap = float(max(means) - min(means))
            need = seeds_for_power(gap, _within_sd(groups))
            cost = need * len(groups) * seconds
            span = f"{icc.value:.2f} [{icc.interval.low:.2f}, {icc.interval.high:.2f}]"
            print(
                f"    {variant:<14}{measure:<18}{span:>22}{gap:13.3g}{need:13.0f}"
                f"{seconds:9.0f}{cost:18.3g}"
            )
            table.setdefault(variant, {})[measure] = {
                "icc": [icc.value, icc.interval.low, icc.interval.high],
                "gap": gap,
                "seeds_per_level": need,
                "seconds_per_run": seconds,
                "cpu_seconds_to_resolve": cost,
            }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="reference")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--mode", default="surrogate")
    parser.add_argument("--data", default="studies/_data")
    parser.add_argument("--skip-variants", action="store_true")
    parser.add_argument("--out", default="")
    parser.add_argument("--depths", default="1,2,3", help="pooling depths compared")
    args = parser.parse_args()
    DEPTHS[:] = [(d, FILTERS[:d]) for d in map(int, args.depths.split(","))]
    print_machine()
    print(
        f"preset {args.preset}, {args.runs} runs a source, inverse mode {args.mode}, "
        f"unbounded, depths {[d[0] for d in DEPTHS]}",
        flush=True,
    )
    started = time.time()
    jobs = [
        (d, s, r, "preset") for d in range(len(DEPTHS)) for s in SOURCES for r in range(args.runs)
    ]
    if not args.skip_variants:
        for variant in ("forward x2", "inverse x2", "bound", "designs x2"):
            jobs += [(d, "all", r, variant) for d in range(len(DEPTHS)) for r in range(args.runs)]
    rows = []
    with ProcessPoolExecutor(2) as pool:
        preset_splits(_config(args.preset, 0, args.mode, "preset"), args.data)  # generated once
        futures = [
            pool.submit(one_run, args.preset, args.data, DEPTHS, d, args.mode, s, r, v)
            for d, s, r, v in jobs
        ]
        for k, future in enumerate(futures, 1):
            row = future.result()
            rows.append(row)
            print(
                f"    {k}/{len(jobs)} depth {DEPTHS[row['depth']][0]} {row['source']:<8} "
                f"{row['variant']:<11} run {row['run']}: alpha {row['alpha']:.2f} alpha_hill "
                f"{row['alpha_hill']:.2f} tail_xi {row['tail_xi']:+.3f} skill "
                f"{row['validated_skill']:+.3f} ({row['seconds']:.0f} CPU-s, "
                f"{(time.time() - started) / 60:.0f} min)",
                flush=True,
            )
    _refit_xmin(rows)
    preset_rows = [r for r in rows if r["variant"] == "preset"]
    sources = _sources_table(preset_rows)
    signal_rows = [r for r in rows if r["source"] == "all"]
    base = [r for r in signal_rows if r["variant"] == "preset"]
    signal = _signal_table(signal_rows + _shares(base, 0.003) + _shares(base, 0.03))
    print(f"wall time {(time.time() - started) / 60:.1f} min", flush=True)
    if args.out:
        slim = [{k: v for k, v in r.items() if k not in ("dr", "inside")} for r in rows]
        with open(args.out, "w") as fh:
            json.dump(
                {
                    "rows": slim,
                    "sources": sources,
                    "signal": signal,
                    "preset": args.preset,
                    "mode": args.mode,
                    "runs": args.runs,
                },
                fh,
                indent=1,
            )


if __name__ == "__main__":
    main()
