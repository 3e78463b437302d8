"""Impossible or out-of-range network settings are rejected by name, rule and value."""

from __future__ import annotations

import pytest
from tiny_trial import small_net, tiny_config

from physics import DatasetSpec
from trainables.config import InverseConfig, NetConfig, from_flat


def test_five_stages_do_not_fit_16x16():
    # Rule: at most log2(16) = 4 pooling stages on a 16×16 lattice.
    with pytest.raises(ValueError, match=r"forward\.stages.*\[1, 4\].*5"):
        tiny_config(data=DatasetSpec(size=16), forward=NetConfig(stages=5, filters=(4,) * 5))


def test_zero_filters_are_rejected():
    # Rule: every stage needs a positive filter count.
    with pytest.raises(ValueError, match=r"inverse_net\.filters.*positive.*\(4, 0\)"):
        tiny_config(inverse_net=NetConfig(stages=2, filters=(4, 0), fc=8))


@pytest.mark.parametrize("dropout", [1.0, -0.1, 1.5])
def test_dropout_outside_unit_interval_is_rejected(dropout):
    # Rule: dropout probability in [0, 1).
    with pytest.raises(ValueError, match=rf"forward\.dropout.*\[0, 1\).*{dropout}"):
        tiny_config(forward=NetConfig(stages=1, filters=(4,), fc=8, dropout=dropout))


def test_physics_mode_needs_physics_epochs():
    # Rule: 'physics' trains only through the Hamiltonian, so it needs at least one such epoch.
    with pytest.raises(ValueError, match=r"inverse\.physics_epochs.*0"):
        tiny_config(inverse=InverseConfig(mode="physics", physics_epochs=0))


def test_negative_broadening_is_rejected():
    # Rule: the eigenvector-gradient broadening ε is >= 0.
    with pytest.raises(ValueError, match=r"inverse\.physics_broadening.*-1e-06"):
        tiny_config(inverse=InverseConfig(physics_broadening=-1e-6))


def test_flat_keys_reach_the_net_checks():
    # Rule: values arriving as Optuna/CLI flat keys are checked like any other.
    with pytest.raises(ValueError, match=r"forward\.filters.*needs one entry per stage"):
        from_flat({"forward.stages": 2, "forward.filters": "8"})
    assert small_net(3).filters == (4, 8, 8)
