"""The contract's metric names as the design states them. Tests check the code against this list,
so it is written down here, not imported from the code it checks."""

CONTRACT_METRICS = tuple(
    """
    d2l_accuracy l2d2l_accuracy validated_accuracy alpha xmin ks_distance n_tail weight_alpha
    robustness_gain hub_gini hub_gini_seed linear_accuracy baseline_accuracy oracle_accuracy
    d2l_skill structure_baseline_accuracy design_baseline_accuracy retrieval_accuracy
    validated_skill collapsed
    """.split()
)
