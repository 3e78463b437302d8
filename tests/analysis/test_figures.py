"""Every figure is written as a non-empty PNG that matplotlib can read back."""

import numpy as np
import pytest
from matplotlib.image import imread

import analysis
import physics


@pytest.fixture(scope="module")
def seeds():
    return physics.sample_displacements(3, seed=61, size=5)


@pytest.fixture(scope="module")
def generated():
    return physics.sample_displacements(3, seed=62, size=5)


def assert_png(path, expected):
    assert path == expected and path.is_file() and path.stat().st_size > 0
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    assert image.std() > 0  # something was drawn


def test_histogram_and_ccdf(tmp_path, seeds, generated):
    assert_png(
        analysis.displacement_histogram(seeds, generated, tmp_path / "hist.png"),
        tmp_path / "hist.png",
    )
    r = analysis.displacement_magnitudes(physics.sample_displacements(8, seed=63, size=8))
    assert_png(
        analysis.power_law_ccdf(r, tmp_path / "sub" / "ccdf.png"), tmp_path / "sub" / "ccdf.png"
    )
    fit = analysis.fit_power_law(r, compare=False)
    assert_png(
        analysis.power_law_ccdf(r, str(tmp_path / "ccdf2.png"), fit=fit), tmp_path / "ccdf2.png"
    )


def test_a_long_ccdf_is_thinned_in_the_bulk_only():
    from analysis.figures import _empirical_ccdf

    x = np.random.default_rng(1).pareto(2.5, 200_000)
    xs, ccdf = _empirical_ccdf(x, points=2000)
    full_x, full_ccdf = _empirical_ccdf(x, points=x.size)
    assert full_x.size == x.size and xs.size < 2000
    np.testing.assert_array_equal(xs[-100:], full_x[-100:])  # the tail, every value
    np.testing.assert_array_equal(ccdf[-100:], full_ccdf[-100:])
    assert xs[0] == full_x[0] and ccdf[0] == 1.0
    kept = np.searchsorted(full_x, xs)  # the thinned points lie on the full curve
    np.testing.assert_array_equal(ccdf, full_ccdf[kept])


def test_weight_ccdf(tmp_path):
    weight = np.random.default_rng(0).standard_t(3, size=(50, 16))
    assert_png(analysis.weight_ccdf(weight, tmp_path / "w.png", size=5), tmp_path / "w.png")


def test_alpha_vs_realisations(tmp_path):
    disp = physics.sample_displacements(6, seed=64, size=8)
    path = analysis.alpha_vs_realisations(list(disp), [1, 3, 6], tmp_path / "s3.png")
    assert_png(path, tmp_path / "s3.png")


def test_attack_figures(tmp_path, seeds, generated):
    gain = analysis.robustness_gain(seeds[:1], generated[:1], strength=0.01, seed=0)
    assert_png(
        analysis.delta_maps(gain.seed_delta[0], gain.generated_delta[0], tmp_path / "d.png"),
        tmp_path / "d.png",
    )
    dw_seed = analysis.attack_perturbations(seeds[:1], strength=0.01, seed=0)[0]
    dw_generated = analysis.attack_perturbations(generated[:1], strength=0.01, seed=0)[0]
    assert_png(
        analysis.mode_perturbation_curves(dw_seed, dw_generated, tmp_path / "m.png"),
        tmp_path / "m.png",
    )
    assert_png(
        analysis.mode_perturbation_curves(
            gain.seed_curve, gain.generated_curve, tmp_path / "m1.png"
        ),
        tmp_path / "m1.png",
    )


def test_spectra_plot(tmp_path, seeds, generated):
    shift = analysis.spectra_shift(seeds, generated, bins=12)
    assert_png(analysis.spectra_plot(shift, tmp_path / "s5.png"), tmp_path / "s5.png")


def test_linear_weight_map(tmp_path, seeds):
    features = analysis.pair_distance_features(seeds, bins=10, r_max=3.0)
    model = analysis.LinearSPR(alpha=1e-3).fit(features, physics.mode_areas(seeds))
    assert_png(
        analysis.linear_weight_map(model.weights, tmp_path / "lin.png", r_max=3.0),
        tmp_path / "lin.png",
    )


def test_training_curves(tmp_path):
    history = [
        {"epoch": e, "loss": 1.0 / e, "accuracy": 1 - 1.0 / (e + 1), "note": "x"}
        for e in range(1, 6)
    ]
    assert_png(analysis.training_curves(history, tmp_path / "t.png"), tmp_path / "t.png")
    assert_png(
        analysis.training_curves(history, tmp_path / "t1.png", keys=["loss"]), tmp_path / "t1.png"
    )


def test_bad_figure_input(tmp_path):
    with pytest.raises(ValueError, match=r"seed_delta must be one structure's δ of shape \(L²,\)"):
        analysis.delta_maps(np.ones(10), np.ones(9), tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"seed_dw must have shape \(N_modes,\)"):
        analysis.mode_perturbation_curves(np.ones((2, 2, 2)), np.ones(4), tmp_path / "x.png")
    with pytest.raises(ValueError, match="weights must be a finite 2-D array"):
        analysis.linear_weight_map(np.ones(4), tmp_path / "x.png")
    with pytest.raises(ValueError, match="history must be a non-empty list"):
        analysis.training_curves([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="at least one numeric metric"):
        analysis.training_curves([{"epoch": 1}], tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"keys must name metrics present in history"):
        analysis.training_curves([{"loss": 1.0}], tmp_path / "x.png", keys=["acc"])
    assert not (tmp_path / "x.png").exists()
