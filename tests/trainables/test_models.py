"""The paper's CNNs: shapes, the Δx/Δy output convention, explicit randomness, stage counts."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from tiny_trial import small_net

from physics.accuracy import mape
from trainables.config import NetConfig
from trainables.models import ForwardNet, GeneratorDropout, InverseNet, conv_side


def test_forward_maps_structures_to_n_mode_areas():
    # Rule: D2L takes (B, 2, L, L) float32 and returns (B, N) float32.
    net = ForwardNet(small_net(2), 8)
    out = net(torch.zeros(3, 2, 8, 8))
    assert out.shape == (3, 64) and out.dtype == torch.float32


def test_inverse_head_rows_are_dx_then_dy_of_atom_ny_l_plus_nx():
    # Rule: head output row s is Δx of atom s = ny*L + nx, row N + s its Δy (physics.lattice).
    size = 4
    net = InverseNet(small_net(1), size)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.arange(2 * size * size, dtype=torch.float32))
    out = net(torch.zeros(1, 1, size, size))  # (1, 2, L, L)
    assert out.shape == (1, 2, size, size)
    ny, nx = 2, 3
    assert out[0, 0, ny, nx] == ny * size + nx
    assert out[0, 1, ny, nx] == size * size + ny * size + nx


def test_paper_defaults_have_the_papers_parameter_count():
    # Rule: 256/512/1024 filters, FC 2048 on 16×16 → ~14.8M parameters (design.md).
    from trainables.config import NetConfig

    count = sum(p.numel() for p in ForwardNet(NetConfig(), 16).parameters())
    assert 14.5e6 < count < 15.1e6


def test_same_generator_seed_gives_same_weights():
    # Rule: weights come from the explicit generator, not torch's global RNG.
    nets = [InverseNet(small_net(2), 8, generator=torch.Generator().manual_seed(7)) for _ in "ab"]
    torch.manual_seed(123)  # global state must not matter
    for p, q in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.equal(p, q)


def test_dropout_masks_come_from_its_generator_and_vanish_in_eval():
    # Rule: same generator state → same mask; eval mode is the identity.
    x = torch.ones(4, 100)
    a = GeneratorDropout(0.5, torch.Generator().manual_seed(1))
    b = GeneratorDropout(0.5, torch.Generator().manual_seed(1))
    assert torch.equal(a(x), b(x))
    assert set(a(x).unique().tolist()) <= {0.0, 2.0}  # inverted dropout keeps the mean
    a.eval()
    assert torch.equal(a(x), x)


def test_bound_keeps_every_output_component_inside_it():
    # Rule: bound·tanh(raw/bound) never leaves [−bound, bound].
    net = InverseNet(small_net(1), 8, bound=0.3)
    with torch.no_grad():
        net.head.bias.fill_(100.0)
    out = net(torch.rand(2, 1, 8, 8))
    assert out.abs().max() <= 0.3


def test_bad_bound_is_rejected():
    # Rule: constructor arguments are checked, the message shows the value.
    with pytest.raises(ValueError, match="bound=-1.0"):
        InverseNet(small_net(1), 8, bound=-1.0)


@pytest.mark.parametrize("stages", [1, 2, 3, 4])
def test_one_to_four_stages_build_and_train_one_step_on_16x16(stages):
    # Rule: 1..4 pooling stages fit a 16×16 lattice and one Adam step lowers nothing to NaN.
    assert conv_side(16, stages) == 16 >> stages
    net = ForwardNet(small_net(stages), 16, generator=torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(4, 2, 16, 16), torch.rand(4, 256) + 0.1
    loss = mape(net(x), y)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss) and all(torch.isfinite(p).all() for p in net.parameters())
    inverse = InverseNet(small_net(stages), 16)
    assert inverse(torch.rand(4, 1, 16, 16)).shape == (4, 2, 16, 16)


@pytest.mark.parametrize("symmetry", ["average", "both"])
def test_averaged_forward_net_gives_one_prediction_for_all_eight_images(symmetry):
    # Rule: forward.symmetry=average (and =both, when not training) predicts the mean over the D4
    # orbit, so every image of a structure (which has the same true mode areas) gets the same
    # prediction.
    import physics
    from physics.symmetry import d4_orbit

    d = torch.from_numpy(physics.sample_displacements(4, seed=1))
    config = NetConfig(stages=2, filters=(8, 8), fc=32, dropout=0.0, symmetry=symmetry)
    net = ForwardNet(config, 16, generator=torch.Generator().manual_seed(0)).double()
    torch.nn.init.normal_(net.head.weight, std=0.05, generator=torch.Generator().manual_seed(1))
    net.eval()
    orbit = d4_orbit(d)
    predictions = torch.stack([net(orbit[g]) for g in range(8)])  # (8, 4, 256)
    assert predictions.dtype == torch.float64
    torch.testing.assert_close(
        predictions, predictions[:1].expand_as(predictions), rtol=1e-12, atol=0
    )
    plain = ForwardNet(dataclasses.replace(config, symmetry="none"), 16).double()
    plain.load_state_dict(net.state_dict())
    plain.eval()
    spread = torch.stack([plain(orbit[g]) for g in range(8)])
    assert (spread - spread[:1]).abs().max() > 1e-6  # a net without it is not invariant


@pytest.mark.parametrize("symmetry", ["augment", "both"])
def test_augmented_forward_net_sees_random_images_only_in_training(symmetry):
    import physics
    from physics.symmetry import d4_orbit

    d = torch.from_numpy(physics.sample_displacements(6, seed=2)).float()
    config = NetConfig(stages=1, filters=(4,), fc=16, dropout=0.0, symmetry=symmetry)
    net = ForwardNet(config, 16, generator=torch.Generator().manual_seed(0))
    torch.nn.init.normal_(net.head.weight, std=0.05, generator=torch.Generator().manual_seed(1))
    net.eval()
    if symmetry == "augment":
        torch.testing.assert_close(net(d), net._predict(d))  # eval: the structure itself
    else:  # eval: the mean over its eight images
        mean = torch.stack([net._predict(image) for image in d4_orbit(d)]).mean(dim=0)
        torch.testing.assert_close(net(d), mean)
    net.train()
    seen = net(d)
    orbit = torch.stack([net._predict(image) for image in d4_orbit(d)])  # (8, 6, 256)
    matches = [(orbit[:, k] - seen[k]).abs().amax(dim=-1).min() < 1e-6 for k in range(6)]
    assert all(matches)  # every structure was replaced by one of its own images
