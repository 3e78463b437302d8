"""Search space, parameter mapping, stored-direction check and the Pareto front."""

import numpy as np
import optuna
import pytest

from study.files.config import load_config
from study.read.report import pareto_mask
from study.run.search import SearchSpace, apply_params, check_directions, make_scheduler
from trainables.config import from_flat, to_flat


def test_filters_exist_only_for_the_sampled_stages():
    # Define-by-run: a 1-stage trial has filters_0 only, a 3-stage one filters_0..2.
    cfg = load_config("reference")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        SearchSpace(cfg.space)(trial)
        stages = trial.params["stages"]
        assert {k for k in trial.params if k.startswith("filters_")} == {
            f"filters_{k}" for k in range(stages)
        }
        study.tell(trial, 0.0)


def test_sampled_params_build_a_valid_trial_config_for_both_nets():
    cfg = load_config("smoke")
    params = {"stages": 2, "filters_0": 8, "filters_1": 16, "fc": 64, "dropout": 0.2, "l2": 1e-3}
    params |= {"lr": 2e-3, "batch_size": 64, "inverse_mode": "hybrid", "bound": True}
    trial = from_flat(apply_params(to_flat(cfg.trial), params))
    assert trial.forward.filters == trial.inverse_net.filters == (8, 16)
    assert trial.forward.dropout == 0.2 and trial.inverse_net.l2 == 1e-3
    assert trial.forward_train.lr == trial.inverse_train.lr == 2e-3
    assert trial.inverse.mode == "hybrid" and trial.inverse.bound is True


def test_stored_study_with_other_directions_is_refused(tmp_path):
    # OptunaSearch does not check directions of a stored study; resume must.
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.create_study(study_name="s", storage=storage, directions=["maximize", "minimize"])
    check_directions(load_config("smoke"), tmp_path, "s")  # default: max skill, min alpha
    other = load_config("smoke", ["search.modes=[max, max]"])
    with pytest.raises(ValueError, match=r"search.modes: must match the stored Optuna study"):
        check_directions(other, tmp_path, "s")


def test_asha_watches_the_per_epoch_validation_accuracy():
    scheduler = make_scheduler(load_config("smoke", ["search.scheduler=asha"]))
    assert type(scheduler).__name__ == "AsyncHyperBandScheduler"
    assert scheduler.metric == "val_accuracy" and scheduler._mode == "max"


def test_pareto_front_keeps_only_non_dominated_trials():
    values = np.array([[0.9, 1.0], [0.8, 2.0], [0.7, 1.5], [0.9, 0.5]])
    assert pareto_mask(values, ["max", "max"]).tolist() == [True, True, False, False]
    # Minimising the second objective: (0.9, 0.5) dominates everything else.
    assert pareto_mask(values, ["max", "min"]).tolist() == [False, False, False, True]


def test_asha_max_t_counts_the_physics_epochs_of_any_mode_in_the_space():
    # Rule: max_t is the worst case over the space: forward + surrogate + physics epochs (+ final),
    # so a hybrid trial is never cut off at its first physics epoch.
    sets = ["forward_train.epochs=3", "inverse_train.epochs=2", "inverse.physics_epochs=2"]
    hybrid = load_config(
        "smoke", [*sets, "search.scheduler=asha", "space.inverse_mode=[surrogate,hybrid]"]
    )
    surrogate = load_config(
        "smoke", [*sets, "search.scheduler=asha", "space.inverse_mode=[surrogate]"]
    )
    assert make_scheduler(hybrid)._max_t == 3 + 2 + 2 + 1
    assert make_scheduler(surrogate)._max_t == 3 + 2 + 1


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_startup_trials_reach_the_tpe_sampler(tmp_path):
    # search.startup_trials sets how many trials TPE samples at random before it models the space.
    from study.run.search import make_searcher

    cfg = load_config("smoke", ["search.startup_trials=3"])
    limiter = make_searcher(cfg, tmp_path, "s")
    assert limiter.searcher._sampler._n_startup_trials == 3
    assert load_config("smoke").search.startup_trials == 10  # Optuna's own default


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_single_final_objective_survives_per_epoch_results(tmp_path):
    # With one objective, OptunaSearch reads it from every result; per-epoch rows do not carry
    # final metrics such as alpha_error, and used to end the study with a KeyError.
    from study.run.search import make_searcher

    overrides = ["search.objectives=[alpha_error]", "search.modes=[min]"]
    cfg = load_config("smoke", overrides)
    limiter = make_searcher(cfg, tmp_path, "single")
    assert limiter.suggest("t1") is not None
    limiter.on_trial_result("t1", {"val_accuracy": 0.9, "training_iteration": 1})
    limiter.on_trial_complete("t1", {"alpha_error": 0.25, "val_accuracy": 0.9})
    (trial,) = optuna.load_study(
        study_name="single", storage=f"sqlite:///{tmp_path / 'optuna.db'}"
    ).get_trials()
    assert trial.state == optuna.trial.TrialState.COMPLETE and trial.values == [0.25]
