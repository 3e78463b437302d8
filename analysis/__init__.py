"""Analysis of generated disordered structures (Yu, Piao & Park 2020): power-law statistics of Δr
and of output weights, robustness to single-atom attacks and hub atoms, energy spectra, the linear
structure–property baseline of Wang, Cheng & Chen, and the figures. A plain library (numpy, scipy,
powerlaw, scikit-learn, matplotlib); it never imports ray, optuna or mlflow."""

from analysis.baselines import (
    KNeighborsMedian,
    knn_median_accuracy,
    nearest_by_relative_error,
    neighbour_distance_quantiles,
)
from analysis.displacements import as_structures, displacement_magnitudes, realisation_fits
from analysis.figures import (
    alpha_vs_realisations,
    delta_maps,
    displacement_histogram,
    linear_weight_map,
    mode_area_comparison,
    mode_perturbation_curves,
    power_law_ccdf,
    spectra_plot,
    training_curves,
    weight_ccdf,
)
from analysis.linear import LinearSPR, accuracy, dos_targets, pair_distance_features
from analysis.powerlaw import PowerLawFit, exhaustive_xmin, fit_power_law
from analysis.robustness import (
    ISOLATION_DISTANCE,
    SMALL_M,
    RobustnessGain,
    attack_perturbations,
    attack_sensitivity,
    gini,
    hub_gini,
    isolated_fraction,
    mode_perturbation,
    robustness_gain,
)
from analysis.spectra import SpectraShift, spectra_shift
from analysis.uncertainty import (
    CONFIDENCE,
    Interval,
    alpha_interval,
    difference_interval,
    gain_interval,
    seed_interval,
)
from analysis.weights import weight_power_law, weight_strength

__all__ = [
    "CONFIDENCE",
    "Interval",
    "alpha_interval",
    "difference_interval",
    "gain_interval",
    "seed_interval",
    "KNeighborsMedian",
    "knn_median_accuracy",
    "nearest_by_relative_error",
    "neighbour_distance_quantiles",
    "LinearSPR",
    "PowerLawFit",
    "RobustnessGain",
    "ISOLATION_DISTANCE",
    "SMALL_M",
    "isolated_fraction",
    "SpectraShift",
    "accuracy",
    "alpha_vs_realisations",
    "as_structures",
    "attack_perturbations",
    "attack_sensitivity",
    "delta_maps",
    "displacement_histogram",
    "displacement_magnitudes",
    "dos_targets",
    "exhaustive_xmin",
    "fit_power_law",
    "gini",
    "hub_gini",
    "linear_weight_map",
    "mode_area_comparison",
    "mode_perturbation",
    "mode_perturbation_curves",
    "pair_distance_features",
    "power_law_ccdf",
    "realisation_fits",
    "robustness_gain",
    "spectra_plot",
    "spectra_shift",
    "training_curves",
    "weight_ccdf",
    "weight_power_law",
    "weight_strength",
]
