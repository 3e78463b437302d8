"""Seconds per trial of the smoke study, this checkout against another commit, side by side.

Both sides run the whole ``smoke`` preset (4 trials, 2 at a time) in turn, round after round, on
one shared dataset folder, so a load that comes and goes falls on both. Per trial, from Tune's
``result.json``: the last result's ``time_total_s``, the trial's seconds in its actor from the
trainable's start to its final result (imports, training, scoring, the files it writes; the older
code also opened MLflow and computed the dataset baselines in every trial). Also each study's wall
time. The first, untimed study of this checkout generates the dataset and caches its baselines, as
a user's first study on a dataset does.

Usage: python benchmarks/smoke_trials.py [--before REV] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from timing import ROOT, checkout_of, launch_with, print_machine

BEFORE = "a8da737"  # main when issue 25 measured the Intel machine


def trial_seconds(tree: Path, data_dir: Path) -> tuple[list[float], float]:
    """One smoke study with the code of ``tree``: each trial's seconds, and the study's wall."""

    def read(folder: Path, wall: float) -> tuple[list[float], float]:
        seconds = []
        for result in Path(folder, "studies", "bench").glob("tune*/*/result.json"):
            last = json.loads(result.read_text().splitlines()[-1])
            seconds.append(last["time_total_s"])
        return seconds, wall

    return launch_with(tree, data_dir, [], read)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print_machine()
    with tempfile.TemporaryDirectory() as tmp, checkout_of(args.before, Path(tmp)) as old:
        data = Path(tmp) / "data"
        trial_seconds(ROOT, data)  # the dataset and its baselines, outside the timed rounds
        sides = {f"before ({args.before})": old, "after (this checkout)": ROOT}
        seen: dict[str, list[float]] = {name: [] for name in sides}
        walls: dict[str, list[float]] = {name: [] for name in sides}
        for k in range(args.rounds):
            for name, tree in sides.items():
                seconds, wall = trial_seconds(tree, data)
                seen[name] += seconds
                walls[name].append(wall)
            print(f"round {k + 1}/{args.rounds} done", flush=True)
    print("smoke study, seconds per trial (trainable start -> final result), 2 trials at a time:")
    medians = {}
    for name, values in seen.items():
        medians[name] = statistics.median(values)
        shown = ", ".join(f"{v:.1f}" for v in sorted(values))
        study = ", ".join(f"{w:.1f}" for w in walls[name])
        print(f"  {name}: median {medians[name]:.1f} over {len(values)} trials [{shown}]")
        print(f"      study wall: {study} s")
    before, after = medians.values()
    print(f"  after / before (median seconds per trial): {after / before:.2f}")


if __name__ == "__main__":
    main()
