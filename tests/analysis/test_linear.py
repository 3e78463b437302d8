"""Linear structure–property baseline (Wang, Cheng & Chen): features, fit, accuracy."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist

import analysis
import physics


def test_ridge_recovers_planted_linear_map_exactly():
    # Noise-free Y = X Wᵀ + b with a vanishing ridge: W and b come back to round-off.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 12))
    w, b = rng.normal(size=(5, 12)), rng.normal(size=5)
    y = x @ w.T + b
    model = analysis.LinearSPR(alpha=1e-12).fit(x, y)
    assert model.weights.shape == (5, 12) and model.bias.shape == (5,)
    np.testing.assert_allclose(model.weights, w, atol=1e-9)
    np.testing.assert_allclose(model.bias, b, atol=1e-9)
    np.testing.assert_allclose(model.predict(x), y, atol=1e-9)


def test_ridge_shrinks_weights_as_alpha_grows():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 6))
    y = x @ rng.normal(size=(2, 6)).T
    norms = [np.linalg.norm(analysis.LinearSPR(alpha=a).fit(x, y).weights) for a in (0, 10, 1000)]
    assert norms[0] > norms[1] > norms[2]


def test_elastic_net_recovers_sparse_map():
    # One weight per target: the L1 part keeps the others at (nearly) zero.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 8))
    w = np.zeros((3, 8))
    w[0, 1], w[1, 4], w[2, 6] = 2.0, -1.5, 0.7
    y = x @ w.T + 0.3
    model = analysis.LinearSPR(alpha=1e-4, method="elastic_net", l1_ratio=0.9).fit(x, y)
    np.testing.assert_allclose(model.weights, w, atol=2e-3)
    np.testing.assert_allclose(model.bias, 0.3, atol=2e-3)


def test_pair_distances_of_the_rest_lattice():
    # Undeformed L×L lattice: 2L(L−1) nearest-neighbour pairs at d = 1, in the shell [1, 1.1).
    size, bins, r_max = 5, 40, 4.0
    g = analysis.pair_distance_features(np.zeros((1, 2, size, size)), bins=bins, r_max=r_max)
    shell = np.pi * (1.1**2 - 1.0**2)
    assert g.shape == (1, bins) and g.dtype == np.float64
    assert g[0, 10] == pytest.approx(2 * 2 * size * (size - 1) / (size * size * shell))
    assert np.all(g[0, :10] == 0.0)


def test_pair_distance_histogram_matches_scipy_pdist():
    # Two routes to the counts: vectorised pairs vs scipy.pdist per structure.
    disp = physics.sample_displacements(3, seed=41, size=6)
    bins, r_max = 30, 3.0
    g = analysis.pair_distance_features(disp, bins=bins, r_max=r_max)
    edges = np.linspace(0.0, r_max, bins + 1)
    shell = np.pi * np.diff(edges**2)
    for k, pos in enumerate(physics.positions(disp)):
        counts = np.histogram(pdist(pos), bins=edges)[0]
        np.testing.assert_allclose(g[k], 2 * counts / (36 * shell), rtol=1e-12)


def test_dos_targets_integrate_to_one_when_range_holds_spectrum():
    disp = physics.sample_displacements(2, seed=42, size=4)
    energies, _ = physics.spectrum(disp)
    lo, hi = energies.min() - 1e-3, energies.max() + 1e-3
    dos = analysis.dos_targets(disp, bins=25, e_range=(lo, hi))
    assert dos.shape == (2, 25)
    np.testing.assert_allclose(dos.sum(axis=1) * (hi - lo) / 25, 1.0)
    # a range holding only the upper half of the levels keeps only those
    mid = np.median(energies)
    half = analysis.dos_targets(disp, bins=5, e_range=(mid, hi))
    expected = (energies >= mid).sum(axis=1) / 16
    np.testing.assert_allclose(half.sum(axis=1) * (hi - mid) / 5, expected)


def test_accuracy_is_one_minus_mape():
    true = np.array([[1.0, 2.0], [4.0, 5.0]])
    assert analysis.accuracy(true, true) == 1.0
    pred = true * np.array([[1.1, 0.8], [1.0, 1.0]])
    assert analysis.accuracy(pred, true) == pytest.approx(1.0 - (0.1 + 0.2) / 4)


def test_bad_linear_input():
    x, y = np.ones((4, 3)), np.ones((4, 2))
    with pytest.raises(ValueError, match="method must be 'ridge' or 'elastic_net'"):
        analysis.LinearSPR(method="lasso")
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        analysis.LinearSPR(alpha=-1.0)
    with pytest.raises(ValueError, match=r"l1_ratio must lie in \[0, 1\]"):
        analysis.LinearSPR(l1_ratio=2.0)
    with pytest.raises(ValueError, match="must be fitted before predict"):
        analysis.LinearSPR().predict(x)
    with pytest.raises(ValueError, match="targets must have 4 rows"):
        analysis.LinearSPR().fit(x, np.ones((3, 2)))
    with pytest.raises(ValueError, match="features must be finite"):
        analysis.LinearSPR().fit(np.full((4, 3), np.nan), y)
    with pytest.raises(ValueError, match="features must be a non-empty 2-D array"):
        analysis.LinearSPR().fit(np.ones(4), y)
    with pytest.raises(ValueError, match="features must have 3 columns"):
        analysis.LinearSPR().fit(x, y).predict(np.ones((2, 5)))
    with pytest.raises(ValueError, match="bins: must be an integer >= 1"):
        analysis.pair_distance_features(np.zeros((1, 2, 3, 3)), bins=0)
    with pytest.raises(ValueError, match="r_max must be a finite number > 0"):
        analysis.pair_distance_features(np.zeros((1, 2, 3, 3)), r_max=-1.0)
    with pytest.raises(ValueError, match="e_range must be finite with low < high"):
        analysis.dos_targets(np.zeros((1, 2, 3, 3)), bins=4, e_range=(1.0, 0.5))
    with pytest.raises(ValueError, match="e_range must be two numbers"):
        analysis.dos_targets(np.zeros((1, 2, 3, 3)), bins=4, e_range=1.0)


@pytest.mark.parametrize(
    "pred, true, match",
    [
        (np.ones(3), np.ones(4), "pred and true must have the same non-empty shape"),
        (np.ones(0), np.ones(0), "pred and true must have the same non-empty shape"),
        (np.array([1.0, np.nan]), np.ones(2), "pred must be finite"),
        (np.ones(2), np.array([1.0, 0.0]), r"true must be non-zero .* 1 zeros"),
    ],
)
def test_bad_accuracy_input(pred, true, match):
    with pytest.raises(ValueError, match=match):
        analysis.accuracy(pred, true)
