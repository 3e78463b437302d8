"""Physical invariants of H and its mode areas (paper Eqs. 1, 2)."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

import physics
from physics.hamiltonian import DEFAULT_A, DEFAULT_ONSITE, DEFAULT_T0


def numpy_mode_areas(displacements, *, a=DEFAULT_A, t0=DEFAULT_T0, onsite=DEFAULT_ONSITE):
    """An independent float64 route: scipy distances, numpy eigh of the full H, one structure at a time."""
    out = []
    size = displacements.shape[-1]
    ny, nx = np.divmod(np.arange(size * size), size)
    for disp in displacements:
        pos = np.stack([nx + disp[0].ravel(), ny + disp[1].ravel()], axis=1)
        h = t0 * np.exp(-a * cdist(pos, pos))
        np.fill_diagonal(h, onsite)
        _, vec = np.linalg.eigh(h)
        out.append(np.sort(1.0 / (size * size * np.sum(vec**4, axis=0))))
    return np.array(out)


@pytest.fixture(scope="module")
def structures():
    return physics.sample_displacements(6, seed=11, size=8)


def test_hamiltonian_is_symmetric_with_onsite_diagonal(structures):
    # H_ij = H_ji (hopping depends on distance only) and H_ii = ε.
    h = physics.hamiltonian(structures, onsite=0.7)
    assert h.dtype == torch.float64 and h.shape == (6, 64, 64)
    assert torch.equal(h, h.transpose(-1, -2))
    assert torch.allclose(
        torch.diagonal(h, dim1=-2, dim2=-1), torch.full((6, 64), 0.7, dtype=torch.float64)
    )


def test_eigenvectors_are_orthonormal(structures):
    # H is real symmetric, so its eigenvectors form an orthonormal basis.
    _, vec = torch.linalg.eigh(physics.hamiltonian(structures))
    eye = torch.eye(64, dtype=torch.float64).expand(6, 64, 64)
    assert torch.allclose(vec.mT @ vec, eye, atol=1e-12)


def test_mode_areas_lie_in_unit_range_and_are_sorted(structures):
    # 1/N (one atom) <= w <= 1 (evenly spread), rows ascending (modes sorted by localisation).
    w = physics.mode_areas(structures)
    assert w.dtype == np.float64 and w.shape == (6, 64)
    assert np.all(w >= 1 / 64 - 1e-12) and np.all(w <= 1 + 1e-12)
    assert np.all(np.diff(w, axis=1) >= 0)


def test_mode_areas_ignore_t0_scale_and_onsite_shift(structures):
    # Eigenvectors of εI + t0·K do not depend on ε nor on the magnitude of t0.
    w = physics.mode_areas(structures)
    np.testing.assert_allclose(
        physics.mode_areas(structures, t0=5.0, onsite=-3.0), w, rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(numpy_mode_areas(structures, t0=5.0, onsite=-3.0), w, atol=1e-9)


def test_torch_route_equals_independent_numpy_route():
    # Two implementations, same physics: agreement to 1e-9 on paper-size lattices.
    disp = physics.sample_displacements(3, seed=5, size=16)
    np.testing.assert_allclose(physics.mode_areas(disp), numpy_mode_areas(disp), rtol=0, atol=1e-9)


def test_batched_equals_looped(structures):
    # Batching is an implementation detail: each row is the structure's own result.
    batched = physics.mode_areas(structures)
    looped = np.concatenate(
        [physics.mode_areas(structures[i : i + 1]) for i in range(len(structures))]
    )
    np.testing.assert_allclose(batched, looped, rtol=0, atol=1e-13)


def test_large_decay_constant_leaves_nearest_neighbour_lattice():
    # With a → large, only nearest neighbours hop (next ones are e^{-a(√2−1)} weaker): the open
    # L×L lattice has E = ε + 2t(cos kx + cos ky), k = πp/(L+1), and its top state (p = q = 1, not
    # degenerate) is a product of sines with Σψ⁴ = (3/(2(L+1)))², i.e. w = 4(L+1)²/(9N).
    size, a, t0 = 8, 40.0, 1.0
    flat = np.zeros((1, 2, size, size))
    energies, areas = physics.spectrum(flat, a=a, t0=t0, onsite=0.0)
    t = t0 * np.exp(-a)
    k = np.pi * np.arange(1, size + 1) / (size + 1)
    exact = np.sort((2 * t * (np.cos(k)[:, None] + np.cos(k)[None, :])).ravel())
    np.testing.assert_allclose(energies[0], exact, rtol=0, atol=1e-6 * t)
    assert areas[0, -1] == pytest.approx(4 * (size + 1) ** 2 / (9 * size * size), rel=1e-6)


def test_single_atom_lattice_limit():
    # A 2×2 lattice at rest: a square with equal sides; the uniform mode has w = 1 exactly.
    flat = np.zeros((1, 2, 2, 2))
    energies, areas = physics.spectrum(flat, t0=1.0, onsite=0.0, a=1.0)
    top = np.argmax(energies[0])
    assert areas[0, top] == pytest.approx(1.0, abs=1e-12)


def test_float32_route_agrees_in_the_mean():
    # float32 is allowed for speed only where it agrees; mean error stays small on K = (H − ε)/t0.
    disp = physics.sample_displacements(4, seed=3, size=16)
    w64 = physics.mode_areas(disp)
    w32 = physics.mode_areas(disp, dtype=torch.float32)
    assert np.mean(np.abs(w32 - w64) / w64) < 1e-3


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((2, 16, 16)), "shape"),
        (np.zeros((2, 3, 4, 4)), "shape"),
        (np.full((1, 2, 4, 4), np.nan), "finite"),
        (np.zeros((0, 2, 4, 4)), "at least one"),
    ],
)
def test_bad_displacements_are_rejected(bad, match):
    # Wrong shapes and NaNs are user errors, named with the offending value.
    with pytest.raises(ValueError, match=match):
        physics.mode_areas(bad)


@pytest.mark.parametrize(
    "kwargs, match", [({"a": -1.0}, "a must be > 0"), ({"t0": float("nan")}, "t0 must be")]
)
def test_bad_physics_parameters_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        physics.mode_areas(np.zeros((1, 2, 4, 4)), **kwargs)


def test_bond_hoppings_match_the_hamiltonian_matrix_elements():
    # Two routes: the bond image against H_ij / (t0·exp(−a·d0)) − 1 read off the full Hamiltonian,
    # for every atom and each of its four short bonds; 0 where the neighbour is off the lattice.
    size, a, t0 = 5, 1.1454, 3.14e-2
    disp = physics.sample_displacements(2, seed=4, size=size)
    image = physics.bond_hoppings(torch.as_tensor(disp), a=a).numpy()  # (2, 4, L, L)
    h = physics.hamiltonian(disp, a=a, t0=t0, onsite=0.0).numpy()  # (2, N, N)
    from physics.hamiltonian import BONDS

    for k, (dx, dy) in enumerate(BONDS):
        for ny in range(size):
            for nx in range(size):
                mx, my = nx + dx, ny + dy
                if 0 <= mx < size and 0 <= my < size:
                    rest = t0 * np.exp(-a * np.hypot(dx, dy))
                    expected = h[:, ny * size + nx, my * size + mx] / rest - 1
                else:
                    expected = np.zeros(2)
                np.testing.assert_allclose(image[:, k, ny, nx], expected, atol=1e-12)


def test_bond_hoppings_vanish_on_a_rigidly_shifted_lattice():
    # Invariant: a translation changes no distance, so every bond keeps its rest hopping.
    disp = torch.zeros(1, 2, 4, 4, dtype=torch.float64)
    disp[:, 0] += 0.3
    disp[:, 1] -= 0.2
    assert physics.bond_hoppings(disp, a=1.1454).abs().max().item() < 1e-15


def test_closed_form_gradients_of_hoppings_and_mode_areas_match_autograd():
    # Rule: the hand-written backward passes (hopping_matrix, areas_from_vectors) are the
    # derivatives of their forward passes: checked against finite differences in float64.
    import torch

    from physics.hamiltonian import areas_from_vectors, hopping_matrix, torch_positions

    d = torch.tensor(physics.sample_displacements(2, seed=1, size=4), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: hopping_matrix(torch_positions(x), 1.1454), (d,))
    vectors = torch.linalg.qr(torch.randn(2, 6, 6, dtype=torch.float64))[0].requires_grad_(True)
    assert torch.autograd.gradcheck(areas_from_vectors, (vectors,))
