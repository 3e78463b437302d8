"""Weight strength W_j of the inverse net's output layer (paper Fig. 5b)."""

import numpy as np
import pytest

import analysis


def test_strength_sums_x_and_y_rows_of_each_atom():
    # Rows 0..N−1 are Δx of atoms 0..N−1, rows N..2N−1 their Δy: W_j = Σ_i w_ji^x² + w_ji^y².
    size, features = 3, 5
    weight = np.zeros((18, features))
    weight[4, :] = 1.0  # Δx of atom 4: 5 × 1²
    weight[9 + 4, 0] = 2.0  # Δy of atom 4: 2²
    weight[9 + 7, 2] = -3.0  # Δy of atom 7: 3²
    strength = analysis.weight_strength(weight, size=size)
    expected = np.zeros(9)
    expected[4], expected[7] = 5.0 + 4.0, 9.0
    assert strength.shape == (9,) and strength.dtype == np.float64
    np.testing.assert_array_equal(strength, expected)


def test_strength_matches_per_atom_loop():
    weight = np.random.default_rng(0).normal(size=(32, 7)).astype(np.float32)
    strength = analysis.weight_strength(weight, size=4)
    loop = [
        sum(float(weight[j, i]) ** 2 + float(weight[16 + j, i]) ** 2 for i in range(7))
        for j in range(16)
    ]
    np.testing.assert_allclose(strength, loop, rtol=1e-6)


def test_power_law_of_planted_strengths_on_256_atoms():
    # W_j drawn from a power law with α = 3 above 0.1: the fit recovers it from N = 256 values.
    rng = np.random.default_rng(1)
    planted = 0.1 * (1.0 - rng.random(256)) ** (-1.0 / 2.0)
    weight = np.zeros((512, 4))
    weight[:256, 0] = np.sqrt(planted)  # all of atom j's strength in one Δx weight
    fit = analysis.weight_power_law(weight, size=16, compare=False)
    assert fit.n == 256 and fit.n_tail >= 50
    assert abs(fit.alpha - 3.0) < 3 * fit.sigma + 0.1


def test_small_lattice_uses_a_smaller_minimum_tail():
    # 16 atoms: a quarter of them, but at least 10, may form the tail.
    weight = np.random.default_rng(2).normal(size=(32, 20))
    fit = analysis.weight_power_law(weight, size=4, compare=False)
    assert fit.n == 16 and fit.n_tail >= 10


@pytest.mark.parametrize(
    "weight, size, match",
    [
        (np.ones((10, 3)), 3, r"weight must have shape \(2N, F\) = \(18, F\)"),
        (np.ones(18), 3, r"weight must have shape \(2N, F\)"),
        (np.ones((18, 0)), 3, r"weight must have shape \(2N, F\)"),
        (np.full((18, 2), np.nan), 3, "weight must be finite, but got 36 NaN/inf"),
        (np.ones((18, 2)), 1, "size: must be an integer >= 2"),
        (np.ones((18, 2)), 3.0, "size: must be an integer >= 2"),
    ],
)
def test_bad_weight_or_size(weight, size, match):
    with pytest.raises(ValueError, match=match):
        analysis.weight_strength(weight, size=size)
