"""Differentiable true physics: same numbers as physics.mode_areas, exact and finite gradients."""

from __future__ import annotations

import numpy as np
import torch
from tiny_trial import small_net

import physics
from trainables.config import InverseConfig, TrainConfig
from trainables.diffphysics import hopping, sorted_mode_areas
from trainables.models import ForwardNet, InverseNet
from trainables.training import fit_inverse, torch_generator

A = 1.1454


def test_matches_physics_mode_areas():
    # Rule: two routes to the same sorted w (physics.mode_areas is the reference, float64).
    disp = physics.sample_displacements(3, seed=0, size=4)
    ours = sorted_mode_areas(torch.tensor(disp), a=A).numpy()
    np.testing.assert_allclose(ours, physics.mode_areas(disp, a=A), rtol=1e-10, atol=1e-12)


def test_gradcheck_on_a_non_degenerate_3x3_lattice():
    # Rule: the broadened backward equals finite differences where levels are well separated.
    disp = torch.tensor(physics.sample_displacements(1, seed=2, size=3), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda d: sorted_mode_areas(d, a=A, broadening=1e-9), (disp,), atol=1e-6, rtol=1e-4
    )


def test_gradient_equals_torch_eigh_gradient_without_degeneracy():
    # Rule: with ε → 0 the custom backward is torch's own eigh backward.
    disp = torch.tensor(physics.sample_displacements(1, seed=5, size=4), requires_grad=True)

    def reference(d):
        _, vec = torch.linalg.eigh(hopping(d, A))
        return torch.sort(1.0 / (16 * vec.pow(4).sum(-2)), dim=-1).values

    ours = torch.autograd.grad(sorted_mode_areas(disp, a=A, broadening=0.0).square().sum(), disp)
    theirs = torch.autograd.grad(reference(disp).square().sum(), disp)
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-8, atol=1e-10)


def test_gradient_is_finite_on_the_degenerate_undeformed_lattice():
    # Rule: broadening keeps gradients finite where the square lattice's levels are degenerate.
    disp = torch.zeros(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(sorted_mode_areas(disp, a=A, broadening=1e-6).sum(), disp)
    assert torch.isfinite(grad).all()


def test_hybrid_mode_trains_through_surrogate_then_physics(tiny_data):
    # Rule: 'hybrid' = inverse_train.epochs surrogate epochs, then physics_epochs true-physics ones.
    forward = ForwardNet(small_net(1), 8, generator=torch_generator(0))
    inverse = InverseNet(small_net(1), 8, generator=torch_generator(1))
    rows = []
    areas = tiny_data["train"][1][:64]
    fit_inverse(
        inverse,
        forward,
        areas,
        tiny_data["val"][1][:16],
        TrainConfig(epochs=1, batch_size=32),
        inverse=InverseConfig(mode="hybrid", physics_epochs=1),
        a=A,
        seed=0,
        on_epoch=rows.append,
    )
    assert [r["objective"] for r in rows] == ["surrogate", "physics"]
    assert all(np.isfinite(r["train_loss"]) for r in rows)
