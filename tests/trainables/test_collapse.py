"""No collapsed nets: a live forward net at smoke size, and the guard that flags a dead trial."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_trial import tiny_config

import physics
from trainables.config import NetConfig, TrainConfig
from trainables.diagnostics import collapse_metrics, fc_active_share, input_gradient_rms
from trainables.models import ForwardNet
from trainables.training import fit_forward, predict, to_training_tensor, torch_generator
from trainables.trial import run_trial


@pytest.fixture(scope="module")
def smoke_sized():
    """The smoke preset's train and validation sizes at L = 16 (2048 + 256 structures, ~20 s)."""
    return {
        name: physics.Split(d, physics.mode_areas(d), r)
        for name, (d, r) in (
            ("train", physics.sample_structures(2048, seed=11)),
            ("val", physics.sample_structures(256, seed=12)),
        )
    }


def test_one_stage_forward_net_stays_alive_and_beats_the_per_rank_median(smoke_sized):
    # Rule: the smallest net of the smoke space (1 stage, 16 filters) trained for the smoke epochs
    # keeps most FC units alive and learns far more than the best constant. Before the relative
    # head every such net died within ~5 Adam steps (FC activity 0.1 %, accuracy ≈ the median's).
    train, val = smoke_sized["train"], smoke_sized["val"]
    net = ForwardNet(
        NetConfig(stages=1, filters=(16,), fc=128, dropout=0.1), 16, generator=torch_generator(0)
    )
    config = TrainConfig(epochs=6, batch_size=32, lr=2e-3)
    fit_forward(net, train[:2], val[:2], config, seed=0)
    x = to_training_tensor(val.displacements)
    accuracy = 1 - float(np.mean(np.abs(predict(net, x).double().numpy() - val[1]) / val[1]))
    median = 1 - float(np.mean(np.abs(np.median(train[1], 0) - val[1]) / val[1]))
    assert fc_active_share(net, x) > 0.5
    assert accuracy > median + 0.15, (accuracy, median)


def test_untrained_forward_net_predicts_the_per_rank_scale():
    # Rule: with the head at zero the net starts at w = μ for every input, and its gradient
    # still reaches the input once the head has moved.
    net = ForwardNet(NetConfig(stages=1, filters=(4,), fc=8, dropout=0.0), 8)
    mu = torch.linspace(0.1, 0.9, 64)
    net.set_scale(mu)
    x = torch.randn(3, 2, 8, 8)
    torch.testing.assert_close(net(x), mu.expand(3, 64))
    assert input_gradient_rms(net, x) == 0.0
    with torch.no_grad():
        net.head.weight.fill_(0.01)
    assert input_gradient_rms(net, x) > 0.0


def test_a_dead_forward_net_is_flagged():
    # Rule: a forward net whose FC never fires is reported as collapsed, with the reason.
    net = ForwardNet(NetConfig(stages=1, filters=(4,), fc=8, dropout=0.0), 8)
    with torch.no_grad():
        net.body.fc.bias.fill_(-1e3)  # every ReLU off
    disp = physics.sample_displacements(4, seed=0, size=8)
    scores = {"max_abs_displacement": 1.0, "w_avg_correlation": 0.99}
    history = [{"val_accuracy": 0.5}, {"val_accuracy": 0.8}]
    out = collapse_metrics(
        net, train_displacements=disp, initial_designs=disp, inverse_history=history, scores=scores
    )
    assert out["collapsed"] == 1.0 and out["forward_fc_active"] == 0.0
    assert "forward FC layer dead" in out["collapsed_reason"]


def test_absurd_inverse_l2_gives_a_flagged_collapsed_trial(tiny_data):
    # Rule: a trial whose inverse net is crushed by its L2 term is marked, not ranked.
    from trainables.config import NetConfig as Net

    config = tiny_config(inverse_net=Net(stages=1, filters=(4,), fc=32, dropout=0.0, l2=1e4))
    final = run_trial(config, lambda _: None, data=tiny_data).metrics
    assert final["collapsed"] == 1.0
    assert "w_avg" in final["collapsed_reason"] or "rest lattice" in final["collapsed_reason"]


def test_probes_see_the_bond_channels():
    # Rule: with bond channels the probes run the net's own input path (6 channels, not 2).
    net = ForwardNet(NetConfig(stages=1, filters=(4,), fc=8, dropout=0.0, bonds=True), 8)
    x = torch.as_tensor(physics.sample_displacements(3, seed=1, size=8), dtype=torch.float32)
    assert net.inputs(x).shape == (3, 6, 8, 8) and 0.0 <= fc_active_share(net, x) <= 1.0
    assert input_gradient_rms(net, x) == 0.0  # head still zero
