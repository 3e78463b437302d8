"""Level differences: a parameter's effect is read from several configurations, not from two."""

from __future__ import annotations

import numpy as np
import pytest
from optuna.samplers import RandomSampler

from study.read.effects import importances, level_effects, slope_effects


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
    assert effect.difference == -6.05 and not np.isfinite(effect.low)  # no interval from one
    assert effect.verdict == "too few to tell"  # configuration a side, however tight its seeds
    assert (effect.trials_a, effect.trials_b, effect.values_a, effect.values_b) == (1, 1, 2, 2)


def test_parameters_that_split_the_trials_the_same_way_are_named_confounded():
    # Every FC-512 trial also had batch 64: the study cannot tell the two effects apart.
    rows = [
        {"trial": f"t{k}", "params": {"fc": fc, "batch_size": b, "stages": s}, "alpha": a}
        for k, (fc, b, s, a) in enumerate(
            [(512, 64, 1, 5.0), (512, 64, 2, 6.0), (256, 32, 1, 9.0), (256, 32, 2, 10.0)]
        )
    ]
    effects = {
        e.param: e for e in level_effects(rows, ["fc", "batch_size", "stages"], ["alpha"], {})
    }
    assert effects["fc"].confounded_with == "batch_size"
    assert effects["batch_size"].confounded_with == "fc" and effects["stages"].confounded_with == ""
    assert effects["fc"].line().endswith("confounded with batch_size)")


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


def test_importance_names_the_parameter_that_moves_the_objective_and_skips_fixed_ones(tmp_path):
    # Known answer: the objective is x² plus a little from y; z has one choice; w is conditional
    # (like a third stage's filters), and asking fANOVA for it would drop every trial without it.
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="known", storage=storage, sampler=RandomSampler(seed=0))

    def objective(trial):
        x = trial.suggest_float("x", -1.0, 1.0)
        y = trial.suggest_float("y", -1.0, 1.0)
        trial.suggest_categorical("z", ["none"])
        if x > 0.5:
            trial.suggest_int("w", 1, 3)
        return x * x + 0.01 * y

    study.optimize(objective, n_trials=3)
    assert importances(tmp_path, "known", ["f"]) == ({}, 3)  # too few to claim anything
    study.optimize(objective, n_trials=37)
    ranked, n = importances(tmp_path, "known", ["f"])
    assert n == 40 and set(ranked["f"]) == {"x", "y"}
    assert ranked["f"]["x"] > 0.9 > 0.1 > ranked["f"]["y"]


def test_a_slope_is_per_decade_on_a_log_parameter_and_needs_four_trials():
    rng = np.random.default_rng(2)
    l2 = 10.0 ** rng.uniform(-5, -1, size=10)
    rows = [
        {"trial": f"t{i}", "params": {"l2": v}, "seed0/alpha": 8.0 + 3.0 * np.log10(v)}
        for i, v in enumerate(l2)
    ]
    for row in rows:
        row["seed1/alpha"] = row["seed0/alpha"] + rng.normal(0, 0.3)
    (effect,) = slope_effects(rows, {"l2": True}, ["alpha"], {})
    assert effect.level_a == "slope per decade" and effect.difference == pytest.approx(3.0, abs=0.2)
    assert effect.verdict == "resolved" and effect.trials_a == 10 and effect.values_a == 20
    assert effect.line().startswith("l2 slope per decade: alpha +2.99 [+2.9")
    (few,) = slope_effects(rows[:3], {"l2": True}, ["alpha"], {})
    assert few.verdict == "too few to tell"
