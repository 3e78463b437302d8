"""Trial start-up: seconds from a trial's start in its Tune actor to its first epoch, this checkout
against another commit (default: the last one whose trials opened the tracking store themselves).

Both sides run the same short study (the smoke preset cut to one surrogate epoch per net, 2 trials
at a time, so each trial starts in a fresh actor) in turn, round after round, on one shared dataset
cache. Per trial, from Tune's ``result.json``: the first result's ``time_this_iter_s`` (from the
trainable's start to its first report: imports, data from the object store, for the older code the
MLflow store opened from the actor, then epoch 1) minus epoch 1's own ``seconds``. The actor's
process start and Ray's imports come before that on both sides alike and are not counted.

Usage: python benchmarks/actor_startup.py [--before REV] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from timing import ROOT, checkout_of, launch_with, print_machine

BEFORE = "a8da737"  # trials still opened MLflow in their actor
SHORT = [
    "forward_train.epochs=1",
    "inverse_train.epochs=1",
    "space.inverse_mode=[surrogate]",
    "score.n_generated=32",
    "search.num_samples=2",
    "search.max_concurrent=2",
]


def startups(tree: Path, data_dir: Path) -> list[float]:
    """One short study with the code of ``tree``; each trial's start-up seconds."""

    def read(folder: Path, wall: float) -> list[float]:
        seconds = []
        for result in Path(folder, "studies", "bench").glob("tune*/*/result.json"):
            first = json.loads(result.read_text().splitlines()[0])
            seconds.append(first["time_this_iter_s"] - first["seconds"])
        return seconds

    return launch_with(tree, data_dir, SHORT, read)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, checkout_of(args.before, Path(tmp)) as old:
        data = Path(tmp) / "data"
        startups(ROOT, data)  # generates the dataset once, outside the timed rounds
        sides = {f"before ({args.before})": old, "after (this checkout)": ROOT}
        seen: dict[str, list[float]] = {name: [] for name in sides}
        for k in range(args.rounds):
            for name, tree in sides.items():
                seen[name] += startups(tree, data)
            print(f"round {k + 1}/{args.rounds} done", flush=True)
    print_machine()
    print("trial start -> first epoch (s), 2 trials at a time in fresh actors:")
    medians = {}
    for name, values in seen.items():
        medians[name] = statistics.median(values)
        shown = ", ".join(f"{v:.2f}" for v in sorted(values))
        print(f"  {name}: median {medians[name]:.2f} over {len(values)} trials [{shown}]")
    before, after = medians.values()
    print(f"  after / before: {after / before:.2f}")


if __name__ == "__main__":
    main()
