"""Spectral shift between seed and generated structures (paper Note S5)."""

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

import analysis
import physics
from physics.hamiltonian import DEFAULT_T0


@pytest.fixture(scope="module")
def pair():
    return (
        physics.sample_displacements(3, seed=31, size=5),
        physics.sample_displacements(3, seed=32, size=5),
    )


def test_identical_sets_have_zero_distance(pair):
    seeds, _ = pair
    shift = analysis.spectra_shift(seeds, seeds)
    assert shift.dos_distance == 0.0
    np.testing.assert_array_equal(shift.seed_dos, shift.generated_dos)


def test_distance_is_scipy_wasserstein_in_units_of_t0(pair):
    # Two routes to W1: sorted-difference mean vs scipy, divided by t0.
    seeds, generated = pair
    shift = analysis.spectra_shift(seeds, generated)
    expected = [
        wasserstein_distance(s, g) / DEFAULT_T0
        for s, g in zip(shift.seed_energies, shift.generated_energies, strict=True)
    ]
    np.testing.assert_allclose(shift.per_pair, expected, rtol=1e-10)
    assert shift.dos_distance == pytest.approx(np.mean(expected))


def test_distance_does_not_depend_on_t0_or_onsite(pair):
    # E = ε + t0·λ: in units of t0 the distance is one between λ spectra.
    seeds, generated = pair
    base = analysis.spectra_shift(seeds, generated).dos_distance
    other = analysis.spectra_shift(seeds, generated, t0=2.5, onsite=-4.0).dos_distance
    assert other == pytest.approx(base, rel=1e-9)


def test_shapes_and_normalised_dos(pair):
    seeds, generated = pair
    shift = analysis.spectra_shift(seeds, generated, bins=16)
    assert shift.seed_energies.shape == shift.generated_areas.shape == (3, 25)
    assert shift.bin_edges.shape == (17,) and shift.seed_dos.shape == (16,)
    widths = np.diff(shift.bin_edges)
    assert (shift.seed_dos * widths).sum() == pytest.approx(1.0)
    assert (shift.generated_dos * widths).sum() == pytest.approx(1.0)
    assert np.all(np.diff(shift.seed_energies, axis=1) >= 0)


def test_bad_input(pair):
    seeds, generated = pair
    with pytest.raises(ValueError, match="must have the same shape"):
        analysis.spectra_shift(seeds, generated[:2])
    with pytest.raises(ValueError, match="bins: must be an integer >= 1"):
        analysis.spectra_shift(seeds, generated, bins=0)
    with pytest.raises(ValueError, match="generated_displacements must be finite"):
        analysis.spectra_shift(seeds, np.full_like(generated, np.nan))
