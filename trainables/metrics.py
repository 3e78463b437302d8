"""The names of a trial's final metrics: the public contract, then the extras. Names only, so that
the CLI's config checks read them without loading torch (:mod:`trainables.score` computes them)."""

from __future__ import annotations

__all__ = ["POWER_LAW_KEYS", "TAIL_KEYS", "CONTRACT_METRICS", "EXTRA_METRICS"]

POWER_LAW_KEYS = ("alpha", "xmin", "ks_distance", "n_tail", "tail_decades")
# Fixed-share tail measures of the generated Δr (analysis.tails), each with ``_lo``/``_hi``:
# Hill's α and the moment estimator's ξ over all atoms, and over the atoms inside the training range
TAIL_KEYS = ("alpha_hill", "tail_xi", "alpha_hill_inside", "tail_xi_inside")
# The final metrics every trial reports (the project's public contract), then the extras.
CONTRACT_METRICS = (
    "d2l_accuracy",
    "l2d2l_accuracy",
    "validated_accuracy",
    *POWER_LAW_KEYS,
    "weight_alpha",
    "robustness_gain",
    "hub_gini",
    "hub_gini_seed",
    "linear_accuracy",
    "baseline_accuracy",
    "oracle_accuracy",
    "d2l_skill",
    "structure_baseline_accuracy",
    "design_baseline_accuracy",
    "retrieval_accuracy",
    "validated_skill",
    "collapsed",
)
EXTRA_METRICS = (
    "alpha_seed",
    "w_avg_correlation",
    "max_abs_displacement",
    "out_of_range_fraction",
    "tail_out_of_range",  # share of the fitted Δr tail's atoms beyond the training range
    "forward_fc_active",
    "forward_input_gradient",
    "design_spread",
    "inverse_val_change",
    "robustness_log10_gain",
    "robustness_small_m",
    "robustness_pairs",
    "isolated_fraction",
    "alpha_lo",  # 95 % interval of alpha: bootstrap over structures (one seed), t over seeds
    "alpha_hi",
    "robustness_gain_lo",  # 95 % interval of the gain: bootstrap over attacked pairs
    "robustness_gain_hi",
    "net_validated_accuracy",  # with inverse.refine_steps: the net's designs before refinement
    *TAIL_KEYS,
    *(f"{k}_{end}" for k in TAIL_KEYS for end in ("lo", "hi")),
    "tail_k",  # tail points of alpha_hill / tail_xi: ⌈score.hill_share · atoms⌉
)
