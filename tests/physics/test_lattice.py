"""Deformation statistics of Eq. 5."""

import numpy as np
import pytest
from scipy import stats

import physics


def test_shape_and_dtype():
    d = physics.sample_displacements(3, seed=0, size=5)
    assert d.shape == (3, 2, 5, 5) and d.dtype == np.float64


def test_same_seed_same_structures_different_seed_different():
    a = physics.sample_displacements(2, seed=7)
    assert np.array_equal(a, physics.sample_displacements(2, seed=7))
    assert not np.array_equal(a, physics.sample_displacements(2, seed=8))


def test_without_individual_noise_every_atom_moves_exactly_rho():
    # σmax = 0: Δ_i = ρ(cos θ_i, sin θ_i), one ρ per realisation, ρ/ρmax ~ u(0, 1).
    d = physics.sample_displacements(2000, seed=1, size=4, sigma_max=0.0, rho_max=0.6)
    r = np.hypot(d[:, 0], d[:, 1]).reshape(2000, -1)
    np.testing.assert_allclose(r, r[:, :1].repeat(16, axis=1), rtol=0, atol=1e-12)
    assert stats.kstest(r[:, 0] / 0.6, "uniform").pvalue > 1e-3


def test_angle_is_shared_by_x_and_y():
    # One angle per atom drives both components (not two independent angles).
    d = physics.sample_displacements(50, seed=2, size=4, sigma_max=0.0)
    theta = np.arctan2(d[:, 1], d[:, 0])
    assert stats.kstest((theta.ravel() + np.pi) / (2 * np.pi), "uniform").pvalue > 1e-3


def test_without_collective_motion_components_are_uniform_in_sigma():
    # ρmax = 0: Δx = σ·U(−1, 1) with σ = σmax·U(0, 1), so |Δx|/σmax is a product of two
    # independent U(0, 1): CDF z − z ln z. One atom per realisation keeps samples independent.
    d = physics.sample_displacements(4000, seed=3, size=3, rho_max=0.0, sigma_max=0.6)
    for component in (0, 1):
        z = np.abs(d[:, component, 0, 0]) / 0.6
        assert stats.kstest(z, lambda v: v - v * np.log(np.clip(v, 1e-300, None))).pvalue > 1e-3
    # Within one realisation the atoms share σ: x and y are bounded by the same σ.
    one = physics.sample_displacements(1, seed=4, size=32, rho_max=0.0)
    sigma = np.abs(one).max()
    assert stats.kstest(one.ravel() / sigma, "uniform", args=(-1, 2)).pvalue > 1e-3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "n: must be an integer >= 1"),
        ({"n": -3}, "n: must be an integer >= 1"),
        ({"n": 2, "size": 1}, "size: must be an integer >= 2"),
        ({"n": 2, "rho_max": -0.1}, "rho_max must be >= 0"),
        ({"n": 2, "sigma_max": float("nan")}, "sigma_max must be a finite number"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        physics.sample_displacements(seed=0, **kwargs)
