"""The eight lattice symmetries leave the sorted mode areas unchanged; near misses do not."""

import numpy as np
import pytest
import torch

import physics
from physics.symmetry import D4_ORDER, d4_action, d4_orbit


@pytest.fixture(scope="module")
def structures():
    d = physics.sample_displacements(3, seed=5)  # (3, 2, 16, 16)
    return d, physics.mode_areas(d)


def _areas(field) -> np.ndarray:
    return physics.mode_areas(np.ascontiguousarray(field))


@pytest.mark.parametrize("element", range(D4_ORDER))
def test_every_d4_element_leaves_the_mode_areas_unchanged(structures, element):
    # Rule: H depends only on distances; the lattice maps onto itself; so w is invariant.
    d, w = structures
    np.testing.assert_allclose(_areas(d4_action(d, element)), w, rtol=0, atol=1e-10)


def test_turning_the_image_alone_or_the_vectors_the_wrong_way_is_no_symmetry(structures):
    # The slips a symmetry implementation makes: both change the mode areas by ~0.07.
    d, w = structures
    image_only = np.rot90(d, 1, axes=(-2, -1))
    dx, dy = d[:, 0], d[:, 1]
    wrong_way = np.stack([-np.rot90(dy, 1, axes=(-2, -1)), np.rot90(dx, 1, axes=(-2, -1))], 1)
    for field in (image_only, wrong_way):
        assert np.abs(_areas(field) - w).max() > 1e-2


def test_the_orbit_holds_eight_distinct_images_and_torch_agrees_with_numpy(structures):
    d, _ = structures
    orbit = d4_orbit(d)
    assert orbit.shape == (8, *d.shape) and len({orbit[g].tobytes() for g in range(8)}) == 8
    torch_orbit = d4_orbit(torch.from_numpy(d))
    assert torch_orbit.dtype == torch.float64
    np.testing.assert_array_equal(torch_orbit.numpy(), orbit)
    np.testing.assert_array_equal(d4_action(d, 0), d)  # element 0 is the identity


def test_bad_elements_and_shapes_are_refused():
    with pytest.raises(ValueError, match=r"element must be an integer in \[0, 8\)"):
        d4_action(np.zeros((1, 2, 4, 4)), 8)
    with pytest.raises(ValueError, match=r"field must have shape \(\.\.\., 2, L, L\)"):
        d4_action(np.zeros((1, 3, 4, 4)), 1)
