"""Level differences: a parameter's effect is read from several configurations, not from two."""

from __future__ import annotations

import numpy as np

from study.effects import level_effects


def _row(trial: str, stages: int, alphas: list[float]) -> dict:
    row = {"trial": trial, "params": {"stages": stages}}
    row |= {f"seed{s}/alpha": a for s, a in enumerate(alphas)}
    return row


def _effect(rows: list[dict]):
    (effect,) = level_effects(rows, ["stages"], ["alpha"], {})
    return effect


def test_one_configuration_a_side_is_too_few_to_tell_however_tight_its_seeds():
    # Rule: two trials that differ in depth differ in every other sampled parameter too; their
    # seeds (here tight and far apart) say the configurations differ, not that depth does.
    effect = _effect([_row("a", 1, [10.0, 10.2]), _row("b", 2, [4.0, 4.1])])
    assert effect.high < 0  # the two configurations are told apart (2 stages − 1) ...
    assert effect.verdict == "too few to tell"  # ... the parameter is not
    assert (effect.trials_a, effect.trials_b, effect.values_a, effect.values_b) == (1, 1, 2, 2)


def test_several_configurations_a_side_resolve_a_clear_effect_and_not_a_noisy_one():
    rng = np.random.default_rng(0)
    clear = [_row(f"a{k}", 2, list(6 + 0.3 * rng.standard_normal(2))) for k in range(3)]
    clear += [_row(f"b{k}", 1, list(10 + 0.3 * rng.standard_normal(2))) for k in range(3)]
    effect = _effect(clear)
    assert effect.verdict == "resolved" and effect.high < 0
    assert abs(effect.difference - (-4)) < 1
    spread = ([5.0, 11.0], [9.0, 7.0], [6.0, 10.0]), ([7.0, 9.0], [12.0, 6.0], [4.0, 8.0])
    noisy = [_row(f"a{k}", 2, v) for k, v in enumerate(spread[0])]
    noisy += [_row(f"b{k}", 1, v) for k, v in enumerate(spread[1])]
    assert _effect(noisy).verdict == "within noise"
