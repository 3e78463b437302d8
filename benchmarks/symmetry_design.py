"""Forward nets that use the lattice's symmetry, and designs that try to beat looking one up,
measured side by side at a preset's size (default ``reference``) on one dataset.

[1] D2L test accuracy per ``forward.symmetry`` (none / augment / average / both) and input (Δ alone,
    Δ with bond hoppings), optionally at other forward epoch counts, over trial seeds, with the
    seconds each fit took, beside the dataset baselines
    (statistics k-NN, (ρ, σ) oracle, nearest-neighbour-distance structure k-NN);
[2] validated accuracy (true Hamiltonian) and the Δr exponent of designs per design option: the
    inverse net's own designs (hybrid training, forward net without symmetry), the same refined by
    k Adam steps through the true Hamiltonian (``inverse.refine_steps``), and the nearest training
    structure (retrieval) refined the same way, beside the Eq. 5 designer and retrieval itself.

Runs two fits at a time (one thread each). Usage:
    python benchmarks/symmetry_design.py [--preset reference] [--seeds 2] [--data DIR]
        [--symmetries none,augment,average,both] [--epochs 8,16] [--inputs plain,bonds]
        [--skip-forward] [--skip-designs]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from timing import preset_baselines, preset_splits, preset_trial, print_machine

SYMMETRIES = ("none", "augment", "average", "both")
REFINE = (10, 30)


def _config(preset: str):
    return preset_trial(preset)


def _data(trial, root: str) -> dict:
    return {s: tuple(np.array(a) for a in v) for s, v in preset_splits(trial, root).items()}


def forward_fit(
    preset: str, root: str, symmetry: str, bonds: bool, seed: int, epochs: int | None = None
) -> dict:
    """One forward net (``epochs``: the preset's when None); its test accuracy and seconds."""
    import torch

    from trainables.designs import numpy_accuracy, surrogate_mode_areas
    from trainables.trial import TrialSeeds, train_forward

    torch.set_num_threads(1)
    trial = _config(preset)
    net = dataclasses.replace(trial.forward, symmetry=symmetry, bonds=bonds)
    trial = dataclasses.replace(trial, forward=net, seed=seed)
    if epochs is not None:
        fit = dataclasses.replace(trial.forward_train, epochs=epochs)
        trial = dataclasses.replace(trial, forward_train=fit)
    data = _data(trial, root)
    start = time.perf_counter()
    forward, _ = train_forward(
        trial, data, seeds=TrialSeeds.spawn(seed), device=torch.device("cpu"), report=lambda r: None
    )
    seconds = time.perf_counter() - start
    test = data["test"]
    d2l = numpy_accuracy(surrogate_mode_areas(forward, test[0]), test[1])
    return {
        "symmetry": symmetry,
        "bonds": bonds,
        "epochs": trial.forward_train.epochs,
        "seed": seed,
        "d2l": d2l,
        "seconds": seconds,
    }


def _alpha(displacements: np.ndarray) -> float:
    from trainables.score import power_law_metrics

    return power_law_metrics(displacements)["alpha"]


def design_options(preset: str, root: str, seed: int) -> list[dict]:
    """One hybrid trial's designs, then refined; retrieval, then refined."""
    import torch

    import analysis
    import physics
    from trainables.designs import Designs, numpy_accuracy, refine
    from trainables.trial import run_trial

    torch.set_num_threads(1)
    trial = dataclasses.replace(_config(preset), seed=seed)
    trial = dataclasses.replace(trial, inverse=dataclasses.replace(trial.inverse, mode="hybrid"))
    data = _data(trial, root)
    start = time.perf_counter()
    result = run_trial(trial, lambda r: None, data=data)
    trial_seconds = time.perf_counter() - start
    designs = result.designs
    train = physics.Split(*data["train"])
    nearest = analysis.nearest_by_relative_error(designs.targets, train.mode_areas)
    retrieved = Designs(designs.targets, train.displacements[nearest], designs.seed_displacements)
    rows = []

    def score(name: str, chosen: Designs, seconds: float) -> None:
        areas = physics.mode_areas(chosen.displacements)
        validated = numpy_accuracy(areas, chosen.targets)
        rows.append(
            {
                "seed": seed,
                "option": name,
                "validated": validated,
                "alpha": _alpha(chosen.displacements),
                "seconds": seconds,
            }
        )

    score("inverse net (hybrid)", designs, trial_seconds)
    score("retrieval", retrieved, 0.0)
    kw = {
        "lr": trial.inverse.refine_lr,
        "a": trial.data.a,
        "broadening": trial.inverse.physics_broadening,
    }
    for steps in REFINE:
        for name, chosen in (("inverse net", designs), ("retrieval", retrieved)):
            start = time.perf_counter()
            refined = refine(chosen, steps=steps, **kw)
            score(f"{name} + {steps} refine steps", refined, time.perf_counter() - start)
    return rows


def _spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    if len(values) < 2:
        return f"{mean:.4f}"
    return f"{mean:.4f} ± {statistics.stdev(values):.4f} ({', '.join(f'{v:.4f}' for v in values)})"


def _baselines(preset: str, root: str) -> dict:
    return preset_baselines(_config(preset), root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="reference")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--data", default="studies/_data")
    parser.add_argument("--symmetries", default=",".join(SYMMETRIES))
    parser.add_argument("--epochs", default="", help="forward epochs, e.g. 8,16 (the preset's)")
    parser.add_argument("--inputs", default="plain,bonds")
    parser.add_argument("--skip-forward", action="store_true")
    parser.add_argument("--skip-designs", action="store_true")
    args = parser.parse_args()
    symmetries = args.symmetries.split(",")
    epochs = [int(e) for e in args.epochs.split(",")] if args.epochs else [None]
    inputs = [{"plain": False, "bonds": True}[i] for i in args.inputs.split(",")]
    print_machine()
    print(f"preset {args.preset}, {args.seeds} seed(s)", flush=True)
    _data(_config(args.preset), args.data)  # generated once, before the pool
    seeds = range(args.seeds)
    with ProcessPoolExecutor(2) as pool:
        forward = []
        if not args.skip_forward:
            jobs = [
                pool.submit(forward_fit, args.preset, args.data, s, b, seed, e)
                for s in symmetries
                for b in inputs
                for e in epochs
                for seed in seeds
            ]
            forward = [job.result() for job in jobs]
        designs = []
        if not args.skip_designs:
            designs = [
                row
                for job in [
                    pool.submit(design_options, args.preset, args.data, seed) for seed in seeds
                ]
                for row in job.result()
            ]
        base = pool.submit(_baselines, args.preset, args.data).result()
    print(
        f"baselines: statistics {base['baseline_accuracy']:.4f}, (ρ, σ) oracle "
        f"{base['oracle_accuracy']:.4f}, structure {base['structure_baseline_accuracy']:.4f}, "
        f"Eq. 5 designer {base['design_baseline_accuracy']:.4f}, retrieval "
        f"{base['retrieval_accuracy']:.4f}"
    )
    if forward:
        print("[1] D2L test accuracy (mean ± sd over seeds) and seconds per fit")
    for s in symmetries:
        for b in inputs:
            for e in dict.fromkeys(r["epochs"] for r in forward):
                rows = [
                    r
                    for r in forward
                    if r["symmetry"] == s and r["bonds"] == b and r["epochs"] == e
                ]
                if rows:
                    acc = _spread([r["d2l"] for r in rows])
                    sec = statistics.mean(r["seconds"] for r in rows)
                    name = "Δ + bonds" if b else "Δ"
                    print(f"    {s:<8} {name:<10} {e:>3} epochs  {acc}  {sec:.0f} s")
    if designs:
        print("[2] designs: validated accuracy, α of their Δr, seconds of the option")
    options = dict.fromkeys(r["option"] for r in designs if r["option"] != "_baselines")
    for option in options:
        rows = [r for r in designs if r["option"] == option]
        alphas = ", ".join(f"{r['alpha']:.2f}" for r in rows)
        sec = statistics.mean(r["seconds"] for r in rows)
        print(
            f"    {option:<32} {_spread([r['validated'] for r in rows])}  α {alphas}  {sec:.0f} s"
        )


if __name__ == "__main__":
    main()
