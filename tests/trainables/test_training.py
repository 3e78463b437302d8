"""Training loops: loss conventions, learning, frozen forward net, checkpoints, failure modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_trial import small_net

from trainables.config import TrainConfig
from trainables.models import ForwardNet, InverseNet
from trainables.training import (
    TrainState,
    fit_forward,
    fit_inverse,
    l2_penalty,
    mape,
    to_training_tensor,
    torch_generator,
)


def _forward(seed: int = 0, **net) -> ForwardNet:
    return ForwardNet(small_net(2, **net), 8, generator=torch_generator(seed))


def test_mape_is_mean_relative_error():
    # Rule: Eq. 3, mean over entries of |pred − true| / true.
    pred, true = torch.tensor([[1.1, 0.5]]), torch.tensor([[1.0, 1.0]])
    assert mape(pred, true).item() == pytest.approx((0.1 + 0.5) / 2)


def test_l2_penalty_is_tensorflow_scale_sum_w2_over_2_without_biases():
    # Rule: tf l2_regularizer(scale) = scale·Σw²/2 over weights; biases are not penalised.
    net = torch.nn.Linear(3, 2)
    with torch.no_grad():
        net.weight.fill_(2.0)
        net.bias.fill_(100.0)
    assert float(l2_penalty(net, 0.05).detach()) == pytest.approx(0.05 * 6 * 4.0 / 2)


def test_training_tensor_is_a_float32_copy_of_read_only_data():
    # Rule: the one float32 cast accepts read-only arrays without a warning and copies them.
    array = np.arange(4.0)
    array.setflags(write=False)
    tensor = to_training_tensor(array, "cpu")
    assert tensor.dtype == torch.float32 and tensor.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_forward_net_overfits_one_batch(tiny_data):
    # Rule: a net that cannot memorise 16 structures is broken; MAPE must drop a lot.
    disp, areas, _ = (a[:16] for a in tiny_data["train"])
    rows = []
    fit_forward(
        _forward(),
        (disp, areas),
        (disp, areas),
        TrainConfig(epochs=150, batch_size=16, lr=3e-3, lr_decay=1.0),
        seed=0,
        on_epoch=rows.append,
    )
    assert rows[-1]["train_loss"] < 0.25 * rows[0]["train_loss"]
    assert rows[-1]["val_accuracy"] > 0.9


def test_on_epoch_gets_epoch_loss_accuracy_lr_and_seconds(tiny_data):
    # Rule: one callback per epoch with the documented keys; the learning rate decays per epoch.
    rows = []
    config = TrainConfig(epochs=2, batch_size=64, lr=1e-3, lr_decay=0.5)
    fit_forward(
        _forward(), tiny_data["train"], tiny_data["val"], config, seed=0, on_epoch=rows.append
    )
    assert [r["epoch"] for r in rows] == [1, 2]
    assert {"train_loss", "val_accuracy", "seconds", "lr", "objective"} <= set(rows[0])
    assert [r["lr"] for r in rows] == pytest.approx([1e-3, 5e-4])
    assert rows[1]["seconds"] >= rows[0]["seconds"] > 0


def test_frozen_forward_net_is_bit_identical_after_inverse_training(tiny_data):
    # Rule: the inverse net trains through the forward net without changing it (paper Fig. 3b).
    forward = _forward(dropout=0.5, l2=1.0)
    before = {k: v.clone() for k, v in forward.state_dict().items()}
    inverse = InverseNet(small_net(1, l2=5e-3), 8, generator=torch_generator(1))
    areas = tiny_data["train"][1]
    fit_inverse(inverse, forward, areas, tiny_data["val"][1], TrainConfig(epochs=1), seed=0)
    for key, value in forward.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not forward.training


def test_checkpoint_restore_gives_identical_next_epoch(tiny_data, tmp_path):
    # Rule: stop after epoch 1, restore into fresh objects → epoch 2 bit-identical to no stop.
    config = TrainConfig(epochs=2, batch_size=64)
    train, val = tiny_data["train"], tiny_data["val"]
    straight, resumed = [], []
    reference = _forward(dropout=0.5)
    fit_forward(reference, train, val, config, seed=3, on_epoch=straight.append)
    path = tmp_path / "forward.ckpt"
    one = TrainConfig(epochs=1, batch_size=64)
    fit_forward(_forward(dropout=0.5), train, val, one, seed=3, checkpoint=path)
    fresh = _forward(seed=99, dropout=0.5)  # different weights and RNG until restored
    fit_forward(fresh, train, val, config, seed=42, checkpoint=path, on_epoch=resumed.append)
    assert [r["epoch"] for r in resumed] == [2]
    assert resumed[0]["train_loss"] == straight[1]["train_loss"]
    for p, q in zip(reference.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(p, q)


def test_checkpoint_holds_both_rng_states():
    # Rule: batch-order and dropout RNG states are saved with the weights and the optimiser.
    net = _forward(dropout=0.5)
    state = TrainState.create(net, TrainConfig(), seed=0)
    keys = set(state.state_dict())
    assert {"model", "optimizer", "scheduler", "batches", "dropout", "epoch"} <= keys


def test_nan_loss_raises_floating_point_error(tiny_data):
    # Rule: divergence fails the trial loudly, naming the epoch.
    disp, areas, _ = tiny_data["train"]
    bad = disp.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="training diverged at epoch 1"):
        fit_forward(_forward(), (bad, areas), tiny_data["val"], TrainConfig(epochs=2), seed=0)


def test_non_finite_targets_are_refused_before_training(tiny_data):
    # Rule: the per-rank scale of the forward head needs finite positive targets; say so at once.
    disp, areas, _ = tiny_data["train"]
    bad = areas.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite positive"):
        fit_forward(_forward(), (disp, bad), tiny_data["val"], TrainConfig(epochs=2), seed=0)


def test_time_budget_stops_training_early(tiny_data):
    # Rule: time_budget_s > 0 ends training once exceeded, even mid-epoch.
    config = TrainConfig(epochs=50, batch_size=8, time_budget_s=1e-6)
    result = fit_forward(_forward(), tiny_data["train"], tiny_data["val"], config, seed=0)
    assert result.epochs == 1 and result.stopped == "time_budget"
