"""Displacement magnitudes Δr and fits against the number of realisations (Fig. 4g, Note S3)."""

import numpy as np
import pytest

import analysis
import physics


def test_magnitudes_are_norms_in_structure_then_atom_order():
    disp = np.zeros((2, 2, 3, 3))
    disp[1, 0, 2, 1], disp[1, 1, 2, 1] = 3.0, 4.0  # structure 1, atom ny=2, nx=1 → s = 7
    r = analysis.displacement_magnitudes(disp)
    assert r.shape == (18,) and r.dtype == np.float64
    assert r[9 + 7] == 5.0 and np.count_nonzero(r) == 1


def test_list_of_structures_equals_array():
    disp = physics.sample_displacements(3, seed=51, size=4)
    as_list = analysis.displacement_magnitudes([disp[0], disp[1:]])
    np.testing.assert_array_equal(as_list, analysis.displacement_magnitudes(disp))


def test_realisation_fits_use_the_first_k_structures():
    disp = physics.sample_displacements(12, seed=52, size=8)
    fits = analysis.realisation_fits(disp, [1, 12])
    assert [f.n for f in fits] == [64, 12 * 64]
    direct = analysis.fit_power_law(analysis.displacement_magnitudes(disp[:1]), compare=False)
    assert fits[0].alpha == direct.alpha and fits[0].comparisons == {}


@pytest.mark.parametrize(
    "counts, match",
    [
        ([0, 2], r"counts must lie in \[1, 4\]"),
        ([5], r"counts must lie in \[1, 4\]"),
        ([], "counts must be a non-empty list of integers"),
        ([1.5], "counts must be a non-empty list of integers"),
    ],
)
def test_bad_counts(counts, match):
    disp = physics.sample_displacements(4, seed=53, size=8)
    with pytest.raises(ValueError, match=match):
        analysis.realisation_fits(disp, counts)


def test_bad_structures():
    with pytest.raises(ValueError, match="displacements must hold at least one structure"):
        analysis.displacement_magnitudes([])
    with pytest.raises(ValueError, match="displacements must share one lattice shape"):
        analysis.displacement_magnitudes([np.zeros((2, 3, 3)), np.zeros((2, 4, 4))])
    with pytest.raises(ValueError, match=r"displacements must have shape \(n, 2, L, L\)"):
        analysis.displacement_magnitudes(np.zeros((2, 3, 3, 3)))
