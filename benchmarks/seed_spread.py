"""How much is the seed: the same configurations run with several trial seeds, side by side.

Each configuration (pooling stages and filters of both nets, the rest of the preset as it is,
hybrid inverse training, unbounded output) is a whole :func:`trainables.run_trial` per trial seed
on one dataset, two at a time on one thread each. Prints per configuration and seed the Δr
exponent α with its tail length in decades and its bootstrap interval over structures, and the
validated skill; then each configuration's spread over seeds. The dataset baselines are computed
once and shared, as a study does.

Usage: python benchmarks/seed_spread.py [--preset reference] [--seeds 0,1,2] [--data DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from timing import preset_baselines, preset_splits, preset_trial, print_machine

# (stages, filters) of the forward and inverse nets: issue 23's two configurations
CONFIGURATIONS = ((1, (16,)), (2, (16, 32)))


def _config(preset: str, stages: int, filters: tuple[int, ...], seed: int):
    trial = preset_trial(preset)
    nets = {
        k: dataclasses.replace(getattr(trial, k), stages=stages, filters=filters)
        for k in ("forward", "inverse_net")
    }
    inverse = dataclasses.replace(trial.inverse, mode="hybrid", bound=False)
    return dataclasses.replace(trial, **nets, inverse=inverse, seed=seed)


def baselines(preset: str, root: str) -> dict:
    return preset_baselines(_config(preset, *CONFIGURATIONS[0], 0), root)


def one_seed(preset: str, root: str, stages: int, filters: tuple, seed: int, known: dict) -> dict:
    import torch

    from trainables.trial import run_trial

    torch.set_num_threads(1)
    trial = _config(preset, stages, filters, seed)
    start = time.perf_counter()
    result = run_trial(trial, lambda row: None, data=preset_splits(trial, root), baselines=known)
    m = result.metrics
    return {
        "configuration": f"{stages} stage(s), {'/'.join(map(str, filters))} filters",
        "seed": seed,
        "alpha": m["alpha"],
        "alpha_lo": m.get("alpha_lo", float("nan")),
        "alpha_hi": m.get("alpha_hi", float("nan")),
        "tail_decades": m["tail_decades"],
        "skill": m["validated_skill"],
        "validated": m["validated_accuracy"],
        "seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="reference")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data", default="studies/_data")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print_machine()
    print(f"preset {args.preset}, trial seeds {seeds}, hybrid, unbounded", flush=True)
    with ProcessPoolExecutor(2) as pool:
        known = pool.submit(baselines, args.preset, args.data).result()
        jobs = [
            pool.submit(one_seed, args.preset, args.data, stages, filters, seed, known)
            for stages, filters in CONFIGURATIONS
            for seed in seeds
        ]
        rows = []
        for job in jobs:
            rows.append(job.result())
            r = rows[-1]
            print(
                f"  {r['configuration']:<26} seed {r['seed']}: α {r['alpha']:.2f} "
                f"[{r['alpha_lo']:.2f}, {r['alpha_hi']:.2f}] over {r['tail_decades']:.2f} "
                f"decades, validated {r['validated']:.4f}, skill {r['skill']:+.3f}, "
                f"{r['seconds']:.0f} s",
                flush=True,
            )
    print(f"design baseline {known['design_baseline_accuracy']:.4f} (skill 0)")
    print("spread over seeds (mean ± sd, min–max):")
    for name in dict.fromkeys(r["configuration"] for r in rows):
        mine = [r for r in rows if r["configuration"] == name]
        for key in ("alpha", "skill"):
            values = [r[key] for r in mine]
            sd = statistics.stdev(values) if len(values) > 1 else float("nan")
            print(
                f"  {name:<26} {key:<6} {statistics.mean(values):.3f} ± {sd:.3f} "
                f"({min(values):.3f}–{max(values):.3f})"
            )


if __name__ == "__main__":
    main()
