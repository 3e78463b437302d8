"""The reproduction's controls on made-up inputs: band counts and the synthetic heavy tail."""

from __future__ import annotations

import numpy as np

import analysis
from study.reproduce.controls import CONTROL_BANDS, band_counts, synthetic_heavy_tail


def test_band_counts_are_half_open_but_the_last_band_is_closed():
    w = np.array([0.19, 0.20, 0.2499, 0.25, 0.30, 0.35, 0.40, 0.401])
    assert band_counts(w) == [2, 1, 1, 2]
    assert len(band_counts(w)) == len(CONTROL_BANDS)


def test_synthetic_heavy_tail_keeps_the_seeds_median_and_has_the_asked_exponent():
    rng = np.random.default_rng(0)
    seeds = rng.normal(0.0, 0.1, size=(4, 2, 64, 64))  # Eq. 5-like Gaussian displacements
    synthetic = synthetic_heavy_tail(seeds, alpha=3.79, rng=np.random.default_rng(1))
    assert synthetic.shape == seeds.shape
    sizes = analysis.displacement_magnitudes(synthetic).reshape(4, -1)
    seed_sizes = analysis.displacement_magnitudes(seeds).reshape(4, -1)
    np.testing.assert_allclose(np.median(sizes, axis=1), np.median(seed_sizes, axis=1), rtol=0.05)
    fit = analysis.fit_power_law(sizes.ravel())
    assert abs(fit.alpha - 3.79) < 0.3 and fit.verdict == "heavy", (fit.alpha, fit.verdict)
    # directions are uniform: the mean displacement vector is small against the typical size
    assert np.abs(synthetic.mean(axis=(2, 3))).max() < 0.1 * np.median(sizes)


def test_pairs_around_one_are_read_with_a_sign_test():
    from study.reproduce.controls import _sides

    assert _sides(np.full(8, 1.2)).endswith("more robust than their seeds")  # p = 0.008
    assert _sides(np.array([0.9] * 7 + [1.1])).endswith("no effect resolved")  # p = 0.07
    assert _sides(np.array([1.1, 0.9])).endswith("no effect resolved")
