"""Baselines: k-NN median regressor, nearest-neighbour descriptors, nearest-by-relative-error."""

from __future__ import annotations

import numpy as np
import pytest

import analysis
import physics


def test_knn_median_of_all_points_is_the_per_rank_median():
    # Rule: with k = n the prediction is the per-rank median of every training target.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(9, 2)), rng.lognormal(size=(9, 5))
    model = analysis.KNeighborsMedian(k=9).fit(x, y)
    np.testing.assert_allclose(model.predict(x[:3]), np.broadcast_to(np.median(y, 0), (3, 5)))


def test_knn_median_recovers_a_function_of_the_features():
    # Rule: on a smooth function of the features, nearby neighbours predict it closely.
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=(4000, 2))
    y = np.exp(x @ np.array([[1.0, 0.5], [0.2, 2.0]]))  # (n, 2), positive
    split = lambda a, b: (x[a:b], y[a:b])  # noqa: E731
    score, k = analysis.knn_median_accuracy(split(0, 3000), split(3000, 3500), split(3500, 4000))
    assert score > 0.98 and k in analysis.baselines.K_CHOICES


def test_knn_median_keeps_every_tie_at_the_kth_distance():
    # Rule: the prediction does not depend on training order: all points tied with the k-th
    # nearest enter the median (here 5 tied points at distance 0 for k = 2).
    x = np.array([[0.0], [0.0], [0.0], [0.0], [0.0], [5.0]])
    y = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [100.0]])
    prediction = analysis.KNeighborsMedian(k=2).fit(x, y).predict(np.zeros((1, 1)))
    assert prediction.tolist() == [[3.0]]


def test_knn_median_rejects_a_bad_k():
    with pytest.raises(ValueError, match="k: must be an integer >= 1"):
        analysis.KNeighborsMedian(k=0)


def test_neighbour_distances_of_the_rest_lattice_are_one_period():
    # Rule: every atom of the undeformed square lattice has its nearest neighbour at distance 1.
    quantiles = analysis.neighbour_distance_quantiles(np.zeros((2, 2, 6, 6)), quantiles=7)
    assert quantiles.shape == (2, 7) and quantiles.dtype == np.float64
    np.testing.assert_allclose(quantiles, 1.0)


def test_neighbour_distances_agree_with_all_pairs():
    # Two routes: the k-d tree against the minimum of the full distance matrix.
    disp = physics.sample_displacements(3, seed=2, size=6)
    pos = physics.positions(disp)  # (3, 36, 2)
    dist = np.linalg.norm(pos[:, :, None] - pos[:, None], axis=-1) + np.eye(36) * 1e9
    expected = np.quantile(dist.min(-1), (np.arange(4) + 0.5) / 4, axis=1).T
    np.testing.assert_allclose(analysis.neighbour_distance_quantiles(disp, quantiles=4), expected)


def test_nearest_by_relative_error_matches_brute_force_across_chunks(monkeypatch):
    # Two routes: chunked search against a direct argmin, with chunks forced to be tiny.
    rng = np.random.default_rng(3)
    library, targets = rng.lognormal(size=(50, 6)), rng.lognormal(size=(11, 6))
    monkeypatch.setattr(analysis.baselines, "_CHUNK", 600)
    expected = (np.abs(library[None] - targets[:, None]) / targets[:, None]).mean(-1).argmin(-1)
    np.testing.assert_array_equal(analysis.nearest_by_relative_error(targets, library), expected)
    np.testing.assert_array_equal(analysis.nearest_by_relative_error(library, library), range(50))
