"""Single-atom attacks, robustness gain and hub statistics (paper Fig. 6)."""

import numpy as np
import pytest

import analysis
import physics


@pytest.fixture(scope="module")
def structures():
    return physics.sample_displacements(2, seed=21, size=6)


@pytest.fixture(scope="module")
def others():
    return physics.sample_displacements(2, seed=22, size=6)


def test_shapes_and_dtypes(structures):
    dw = analysis.attack_perturbations(structures, strength=0.01, seed=0)
    delta = analysis.attack_sensitivity(structures, strength=0.01, seed=0)
    curve = analysis.mode_perturbation(structures, strength=0.01, seed=0)
    assert dw.shape == (2, 36, 36) and dw.dtype == np.float64 and np.all(dw >= 0)
    assert delta.shape == (2, 36) and delta.dtype == np.float64
    assert curve.shape == (2, 36) and curve.dtype == np.float64
    # δ averages over modes, the curve over attacked atoms: both average to the same grand mean
    np.testing.assert_allclose(delta.mean(axis=1), curve.mean(axis=1), rtol=1e-12)


def test_delta_matches_moving_each_atom_by_hand():
    # Independent route: displace atom i along its attack direction, recompute w from scratch.
    disp = physics.sample_displacements(1, seed=23, size=4)
    strength, seed = 0.05, 7
    theta = physics.attack_angles(1, 16, seed=seed)[0]  # the directions attacked_mode_areas uses
    intact = physics.mode_areas(disp)[0]
    expected = np.empty(16)
    for atom in range(16):
        moved = disp.copy()
        ny, nx = divmod(atom, 4)
        moved[0, 0, ny, nx] += strength * np.cos(theta[atom])
        moved[0, 1, ny, nx] += strength * np.sin(theta[atom])
        expected[atom] = np.abs(physics.mode_areas(moved)[0] - intact).mean()
    delta = analysis.attack_sensitivity(disp, strength=strength, seed=seed)[0]
    np.testing.assert_allclose(delta, expected, rtol=1e-8, atol=1e-14)


def test_delta_vanishes_linearly_with_attack_strength(structures):
    # w is smooth in the positions, so |Δw| ∝ ρa for small ρa: a 10× weaker attack, 10× smaller δ.
    strong = analysis.attack_sensitivity(structures, strength=1e-4, seed=3)
    weak = analysis.attack_sensitivity(structures, strength=1e-5, seed=3)
    assert np.all(weak > 0)
    np.testing.assert_allclose(strong / weak, 10.0, rtol=0.05)
    # no attack: only float64 round-off (the attacked copies are diagonalised in their own batch)
    assert np.all(analysis.attack_sensitivity(structures, strength=0.0, seed=3) < 1e-13)


def test_structure_compared_with_itself_has_gain_exactly_one(structures):
    # Same structures, same attack directions: identical |Δw|, ratio exactly 1.
    result = analysis.robustness_gain(structures, structures, strength=0.02, seed=4)
    assert result.gain == 1.0 and result.log10_gain == 0.0 and result.small_m_gain == 1.0
    assert np.all(result.per_pair == 1.0)
    np.testing.assert_array_equal(result.seed_curve, result.generated_curve)
    np.testing.assert_array_equal(result.seed_delta, result.generated_delta)


def test_gain_is_the_geometric_mean_of_pair_ratios(structures, others):
    # Rule: one pair with a huge ratio cannot carry the gain (the arithmetic mean over 2–8 pairs
    # is that pair's number); the geometric mean is 10^(mean log10 ratio).
    result = analysis.robustness_gain(structures, others, strength=0.02, seed=5)
    seed_dw = analysis.attack_perturbations(structures, strength=0.02, seed=5)
    other_dw = analysis.attack_perturbations(others, strength=0.02, seed=5)
    ratio = seed_dw.mean(axis=(1, 2)) / other_dw.mean(axis=(1, 2))
    assert result.gain == pytest.approx(10 ** np.log10(ratio).mean(), rel=1e-12)
    assert result.log10_gain == pytest.approx(np.log10(ratio).mean(), rel=1e-12)
    small = seed_dw[..., :32].mean(axis=(1, 2)) / other_dw[..., :32].mean(axis=(1, 2))
    assert result.small_m_gain == pytest.approx(10 ** np.log10(small).mean(), rel=1e-12)
    assert result.seed_curve.shape == result.generated_curve.shape == (36,)
    np.testing.assert_allclose(result.generated_curve, other_dw.mean(axis=1).mean(axis=0))
    # swapping the roles inverts every per-pair ratio
    swapped = analysis.robustness_gain(others, structures, strength=0.02, seed=5)
    np.testing.assert_allclose(swapped.per_pair, 1.0 / result.per_pair, rtol=1e-12)


def test_gini_of_uniform_values_is_zero():
    # A "democratic" response: every atom equally sensitive.
    assert analysis.gini(np.full(64, 3.7)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n", [2, 16, 256])
def test_gini_of_single_hub_is_one_minus_one_over_n(n):
    values = np.zeros(n)
    values[n // 3] = 5.0
    assert analysis.gini(values) == pytest.approx(1.0 - 1.0 / n, rel=1e-12)


def test_gini_matches_pairwise_definition_and_is_scale_free():
    # Two routes: sorted closed form vs Σ_ij |v_i − v_j| / (2 N² mean).
    v = np.random.default_rng(0).exponential(size=(3, 50))
    pairwise = np.abs(v[:, :, None] - v[:, None, :]).sum(axis=(1, 2)) / (2 * 50**2 * v.mean(1))
    g = analysis.gini(v)
    assert g.shape == (3,)
    np.testing.assert_allclose(g, pairwise, rtol=1e-12)
    np.testing.assert_allclose(analysis.gini(7.0 * v), g, rtol=1e-12)


def test_hub_gini_is_mean_over_structures():
    delta = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 2.0]])
    assert analysis.hub_gini(delta) == pytest.approx(0.5 * (0.0 + 0.75))
    assert isinstance(analysis.hub_gini(delta), float)


@pytest.mark.parametrize(
    "values, match",
    [
        (np.array([1.0, np.nan]), "values must be finite"),
        (np.array([1.0, -1.0]), "values must be >= 0, but got 1 negative"),
        (np.zeros(4), "values must have a positive sum"),
        (np.zeros((2, 0)), "values must have a non-empty last axis"),
        (np.float64(3.0), "values must have a non-empty last axis"),
    ],
)
def test_gini_rejects_bad_values(values, match):
    with pytest.raises(ValueError, match=match):
        analysis.gini(values)


def test_hub_gini_needs_two_dimensions():
    with pytest.raises(ValueError, match=r"delta must have shape \(n, N\)"):
        analysis.hub_gini(np.ones(4))


def test_robustness_gain_rejects_bad_input(structures):
    with pytest.raises(ValueError, match="must have the same shape"):
        analysis.robustness_gain(structures, structures[:1], strength=0.01, seed=0)
    with pytest.raises(ValueError, match="strength must be a finite number > 0"):
        analysis.robustness_gain(structures, structures, strength=0.0, seed=0)
    with pytest.raises(ValueError, match="seed_displacements must have shape"):
        analysis.robustness_gain(structures[0], structures, strength=0.01, seed=0)
    with pytest.raises(ValueError, match="strength must be a finite number >= 0"):
        analysis.attack_sensitivity(structures, strength=-0.1, seed=0)


def test_a_structure_with_isolated_atoms_is_flagged():
    # Rule: an atom whose nearest neighbour is farther than 2 lattice periods is isolated; the
    # rest lattice and Eq. 5 structures have none, a structure with one atom pushed away has one.
    size = 6
    rest = np.zeros((1, 2, size, size))
    assert analysis.isolated_fraction(rest) == 0.0
    pushed = rest.copy()
    pushed[0, 0, 0, 0] = -5.0  # the corner atom, 5 periods out to the left
    assert analysis.isolated_fraction(pushed) == pytest.approx(1 / size**2)
    assert analysis.isolated_fraction(np.concatenate([rest, pushed])) == pytest.approx(
        1 / (2 * size**2)
    )
    disordered = physics.sample_displacements(4, seed=0, size=size)
    assert analysis.isolated_fraction(disordered) == 0.0
