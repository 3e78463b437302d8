"""Time the power-law fit at the paper's scale and against powerlaw's exhaustive xmin scan.

The paper fits Δr of 3200 realisations × 256 atoms = 819,200 values (Fig. 4g). Target: ≤ 10 s here.
Then one 5,000-value subsample is fitted both ways, ours and ``powerlaw.Fit`` choosing xmin itself
(one fit per distinct value, O(n²)), with the same α range, and both xmins are printed.

Run: .venv/bin/python benchmarks/powerlaw_fit.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import powerlaw
from timing import print_machine

from analysis import fit_power_law

N_VALUES = 819_200  # 3200 realisations × 256 atoms
N_SUBSAMPLE = 5_000
ALPHA, XMIN = 3.79, 0.432  # the paper's generated Δr (Fig. 4g-1)


def synthetic_delta_r(rng: np.random.Generator, n: int) -> np.ndarray:
    """A quarter power law p ∝ Δr^−α above XMIN, the rest a flat body below it."""
    n_tail = n // 4
    tail = XMIN * (1.0 - rng.random(n_tail)) ** (-1.0 / (ALPHA - 1.0))
    return np.concatenate([tail, rng.uniform(0.01, XMIN, n - n_tail)])


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    print_machine()
    rng = np.random.default_rng(0)
    x = synthetic_delta_r(rng, N_VALUES)
    fit, seconds = timed(lambda: fit_power_law(x))
    _, seconds_bare = timed(lambda: fit_power_law(x, compare=False))
    print(f"planted: alpha={ALPHA}, xmin={XMIN}")
    print(
        f"fit_power_law, {N_VALUES:,} values: {seconds:.2f} s with comparisons "
        f"({seconds_bare:.2f} s without; target <= 10 s): alpha={fit.alpha:.4f}, "
        f"xmin={fit.xmin:.4f}, D={fit.ks_distance:.5f}, n_tail={fit.n_tail:,}"
    )
    for name, (r, p) in fit.comparisons.items():
        print(f"  power law vs {name}: R={r:+.3f}, p={p:.3g}")

    sub = rng.choice(x, N_SUBSAMPLE, replace=False)
    ours, ours_s = timed(lambda: fit_power_law(sub, compare=False))
    every, every_s = timed(lambda: fit_power_law(sub, n_candidates=N_SUBSAMPLE, compare=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, theirs_s = timed(
            lambda: powerlaw.Fit(sub, parameter_ranges={"alpha": [1.0, 20.0]}, verbose=0)
        )
        theirs_alpha = theirs.power_law.alpha
    print(f"subsample of {N_SUBSAMPLE:,} values:")
    print(f"  ours     : {ours_s:7.3f} s, xmin={ours.xmin:.5f}, alpha={ours.alpha:.4f}")
    print(
        f"  ours, every value a candidate: {every_s:7.3f} s, xmin={every.xmin:.5f}, "
        f"alpha={every.alpha:.4f}"
    )
    print(f"  powerlaw : {theirs_s:7.3f} s, xmin={theirs.xmin:.5f}, alpha={theirs_alpha:.4f}")
    print(f"  powerlaw / ours time ratio: {theirs_s / ours_s:.0f}x")


if __name__ == "__main__":
    main()
