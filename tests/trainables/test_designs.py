"""Validation of designed structures against the true Hamiltonian; the k-NN baseline."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_trial import small_net

from trainables.baseline import baseline_accuracy, global_statistics
from trainables.designs import design, range_excess, validate_structures, w_avg_correlation
from trainables.models import ForwardNet, InverseNet
from trainables.training import torch_generator


def test_seed_structures_validate_perfectly_against_their_own_mode_areas(tiny_data):
    # Rule: a structure scored against its own float64 w has validated accuracy 1, correlation 1.
    disp, areas, _ = (a[:6] for a in tiny_data["test"])
    forward = ForwardNet(small_net(1), 8)
    metrics, true = validate_structures(
        areas, disp, forward=forward, training_max=10.0, a=1.1454, t0=3.14e-2, onsite=1.0
    )
    assert true.dtype == np.float64 and true.shape == (6, 64)
    assert metrics["validated_accuracy"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["w_avg_correlation"] == pytest.approx(1.0)
    assert metrics["out_of_range_fraction"] == 0.0
    assert np.isfinite(metrics["l2d2l_accuracy"])


def test_range_excess_counts_components_beyond_the_training_max():
    # Rule: max |Δ| and the fraction of components with |Δ| > training max.
    disp = np.zeros((1, 2, 2, 2))
    disp[0, 0, 0, 0], disp[0, 1, 1, 1] = -3.0, 0.5
    assert range_excess(disp, 1.0) == {"max_abs_displacement": 3.0, "out_of_range_fraction": 1 / 8}


def test_w_avg_correlation_of_a_flat_target_is_nan():
    # Rule: correlation is undefined (NaN, no warning) when one side does not vary.
    assert np.isnan(w_avg_correlation(np.ones((3, 4)), np.random.default_rng(0).random((3, 4))))


def test_design_returns_float64_structures_for_the_first_n_targets(tiny_data):
    # Rule: n designs, targets and seeds are the first n test pairs, displacements float64.
    inverse = InverseNet(small_net(1), 8, generator=torch_generator(0))
    designs = design(inverse, tiny_data["test"], 5)
    assert designs.displacements.shape == (5, 2, 8, 8)
    assert designs.displacements.dtype == np.float64
    np.testing.assert_array_equal(designs.targets, tiny_data["test"][1][:5])
    np.testing.assert_array_equal(designs.seed_displacements, tiny_data["test"][0][:5])


def test_global_statistics_of_a_uniform_shift():
    # Rule: every atom moved by (0.3, 0.4) → mean |Δr| 0.5, all spreads 0.
    disp = np.zeros((1, 2, 3, 3))
    disp[:, 0], disp[:, 1] = 0.3, 0.4
    np.testing.assert_allclose(global_statistics(disp), [[0.5, 0.0, 0.0, 0.0]], atol=1e-15)


def test_knn_baseline_beats_the_constant_mean_vector(tiny_data):
    # Rule: disorder strength alone predicts sorted w far better than a constant (design.md).
    train, test = tiny_data["train"], tiny_data["test"]
    constant = 1 - np.mean(np.abs(train[1].mean(0) - test[1]) / test[1])
    assert baseline_accuracy(train, test) > constant + 0.1


def test_baseline_rejects_bad_neighbour_count(tiny_data):
    # Rule: argument checks show the value.
    with pytest.raises(ValueError, match="n_neighbors=0"):
        baseline_accuracy(tiny_data["train"], tiny_data["test"], n_neighbors=0)


def test_refinement_through_the_true_hamiltonian_brings_designs_closer_to_their_targets():
    # Rule: refine() descends each design's own MAPE through the true Hamiltonian, so the
    # validated accuracy rises; the net's designs are kept beside the refined ones.
    import physics
    from trainables.designs import Designs, numpy_accuracy, refine

    seeds = physics.sample_displacements(6, seed=3, size=6)
    targets = physics.mode_areas(seeds)
    start = seeds + 0.15 * np.random.default_rng(0).standard_normal(seeds.shape)  # a rough design
    designs = Designs(targets, start, seeds)
    refined = refine(designs, steps=15, lr=5e-3, a=1.1454, broadening=1e-2, chunk=4)
    before = numpy_accuracy(physics.mode_areas(start), targets)
    after = numpy_accuracy(physics.mode_areas(refined.displacements), targets)
    assert after > before + 0.01, (before, after)
    np.testing.assert_array_equal(refined.net_displacements, start)
    assert refine(designs, steps=0, lr=5e-3, a=1.1454, broadening=1e-2) is designs


def test_a_tail_made_of_atoms_beyond_the_training_range_is_measured_as_such():
    # Known answer: in-range Gaussian displacements, plus 400 atoms flung out along x with a
    # Pareto(α=2.5) length from 2 lattice periods. With the training range at 1.2 the fitted
    # tail is those atoms; with a range that holds them, none of it is beyond.
    from trainables.score import power_law_metrics

    rng = np.random.default_rng(0)
    d = rng.normal(0.0, 0.15, size=(64, 2, 16, 16))
    flat = d.reshape(64, 2, -1)
    structure, atom = rng.integers(0, 64, 400), rng.integers(0, 256, 400)
    flat[structure, 0, atom] = 2.0 * (1 - rng.random(400)) ** (-1 / 1.5)
    off = power_law_metrics(d, training_max=1.2)
    assert off["xmin"] >= 1.2 and off["tail_out_of_range"] > 0.95, off
    assert power_law_metrics(d, training_max=1e6)["tail_out_of_range"] == 0.0
    assert "tail_out_of_range" not in power_law_metrics(d)
