"""Trial baselines: the disorder-only oracle, trivial designers and the skills."""

from __future__ import annotations

import numpy as np
import pytest

import analysis
import physics
from trainables.baseline import design_baselines, forward_baselines, skill


def _split_at(rho: float, sigma: float, n: int, seed: int, size: int = 8) -> physics.Split:
    disorder = np.tile([rho, sigma], (n, 1))
    disp = physics.deform(disorder[:, 0], disorder[:, 1], seed=seed, size=size)
    return physics.Split(disp, physics.mode_areas(disp), disorder)


def test_oracle_at_one_disorder_strength_is_the_per_rank_median_ceiling():
    # Rule: when every structure shares one (ρ, σ), knowing (ρ, σ) says nothing about a structure,
    # so the oracle can do no better than the best constant, the per-rank median of the training
    # targets. Every training structure ties at distance 0 and ties are all kept, so the two agree
    # to rounding, whatever k the validation split picks.
    train, val, test = (_split_at(0.3, 0.2, n, seed) for n, seed in ((800, 1), (100, 2), (200, 3)))
    result = forward_baselines(train, val, test, d2l_accuracy=0.5)
    ceiling = analysis.accuracy(np.broadcast_to(np.median(train[1], 0), test[1].shape), test[1])
    assert result["oracle_accuracy"] == pytest.approx(ceiling, abs=1e-12)


def test_oracle_uses_disorder_strength_across_a_range(tiny_data):
    # Rule: across Eq. 5's (ρ, σ) range the oracle clearly beats the per-rank median.
    train, val, test = (physics.Split(*tiny_data[s]) for s in ("train", "val", "test"))
    result = forward_baselines(train, val, test, d2l_accuracy=0.5)
    ceiling = analysis.accuracy(np.broadcast_to(np.median(train[1], 0), test[1].shape), test[1])
    assert result["oracle_accuracy"] > ceiling + 0.05
    assert result["d2l_skill"] == pytest.approx(skill(0.5, result["oracle_accuracy"]))


def test_skill_is_zero_at_the_reference_and_one_when_exact():
    assert skill(0.9, 0.9) == 0.0 and skill(1.0, 0.8) == 1.0
    assert skill(0.8, 0.9) == pytest.approx(-1.0) and np.isnan(skill(0.7, 1.0))


def test_designing_training_targets_retrieves_them_exactly(tiny_data):
    # Rule: a target that is a training structure's w is retrieved exactly; a fresh Eq. 5 draw at
    # its (ρ, σ) is close but not exact.
    train = physics.Split(*tiny_data["train"])
    result = design_baselines(
        train, train[1][:12], validated_accuracy=0.8, seed=0, a=1.1454, t0=3.14e-2, onsite=1.0
    )
    assert result["retrieval_accuracy"] == 1.0
    assert 0.6 < result["design_baseline_accuracy"] < 1.0
    assert result["validated_skill"] == pytest.approx(
        skill(0.8, result["design_baseline_accuracy"])
    )
