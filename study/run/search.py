"""The search: a define-by-run Optuna space over architectures, the searcher and the scheduler.

Architecture choices apply to both nets (the paper mirrors D2L and L2D, and Note S6 changes both);
filters are sampled per stage, so their parameters exist only for the stages a trial has.
"""

from __future__ import annotations

from pathlib import Path

from study.files.config import SpaceConfig, StudyConfig
from study.files.params import PARAMS, param_keys, searched_keys

__all__ = [
    "SearchSpace",
    "apply_params",
    "base_flat",
    "SEARCHED_KEYS",
    "make_searcher",
    "make_scheduler",
    "max_epochs",
    "check_directions",
    "distributions",
    "warm_start",
]


class SearchSpace:
    """Define-by-run space from :data:`study.files.params.PARAMS`, in its rows' order; a class,
    not a closure, so Tune can pickle the searcher for resume."""

    def __init__(self, space: SpaceConfig) -> None:
        self.space = space

    def __call__(self, trial) -> None:
        stages = 0
        for param in PARAMS:
            values = getattr(self.space, param.name)
            if param.kind == "stages":
                stages = trial.suggest_int(param.name, values[0], values[1])
            elif param.kind == "filters":  # one choice per stage the trial has
                for k in range(stages):
                    trial.suggest_categorical(f"filters_{k}", list(values))
            elif param.kind == "int":
                trial.suggest_int(param.name, values[0], values[1])
            elif param.kind in ("float", "log"):
                trial.suggest_float(param.name, values[0], values[1], log=param.log)
            else:
                trial.suggest_categorical(param.name, list(values))


# Sampled parameter → the flat trial-config keys it sets (stages and filters_k: see apply_params).
PARAM_KEYS = param_keys()
SEARCHED_KEYS = searched_keys()  # trial-config keys every trial takes from the search


def base_flat(cfg: StudyConfig) -> dict:
    """The flat trial config every trial starts from (the search's samples go on top)."""
    from trainables.config import to_flat

    return to_flat(cfg.trial) | {"threads": max(1, int(cfg.resources.cpus_per_trial))}


def apply_params(base_flat: dict, params: dict) -> dict:
    """Sampled parameters → flat trial-config overrides on top of ``base_flat``."""
    flat = dict(base_flat)
    if "stages" in params:
        stages = int(params["stages"])
        filters = tuple(int(params[f"filters_{k}"]) for k in range(stages))
        for net in ("forward", "inverse_net"):
            flat[f"{net}.stages"], flat[f"{net}.filters"] = stages, filters
    for name, keys in PARAM_KEYS.items():
        if name in params:
            for key in keys:
                flat[key] = params[name]
    return flat


def _storage(study_dir: Path):
    import optuna

    return optuna.storages.RDBStorage(f"sqlite:///{(study_dir / 'optuna.db').resolve()}")


def check_directions(cfg: StudyConfig, study_dir: Path, name: str) -> None:
    """A stored study with other objectives cannot be continued (OptunaSearch does not check)."""
    import optuna

    try:
        stored = optuna.load_study(study_name=name, storage=_storage(study_dir))
    except KeyError:
        return
    except Exception as err:  # noqa: BLE001 - a damaged file surfaces as several SQLAlchemy errors
        reason = str(err).splitlines()[0][:80] if str(err) else type(err).__name__
        raise ValueError(
            f"study: must have a readable Optuna database ({reason}), but got "
            f"{str(study_dir / 'optuna.db')!r}."
        ) from None
    wanted = [
        optuna.study.StudyDirection.MAXIMIZE if m == "max" else optuna.study.StudyDirection.MINIMIZE
        for m in cfg.search.modes
    ]
    if list(stored.directions) != wanted:
        have = [d.name.lower() for d in stored.directions]
        raise ValueError(
            f"search.modes: must match the stored Optuna study {name!r} ({have}), but got {list(cfg.search.modes)}."
        )


def make_searcher(cfg: StudyConfig, study_dir: Path, name: str):
    import optuna
    from ray.tune.search import ConcurrencyLimiter

    from study.run.optuna_search import LinkedOptunaSearch

    objectives, modes = list(cfg.search.objectives), list(cfg.search.modes)
    sampler = optuna.samplers.TPESampler(
        seed=cfg.search.sampler_seed, n_startup_trials=cfg.search.startup_trials
    )
    searcher = LinkedOptunaSearch(
        space=SearchSpace(cfg.space),
        metric=objectives if len(objectives) > 1 else objectives[0],
        mode=modes if len(modes) > 1 else modes[0],
        sampler=sampler,
        storage=_storage(study_dir),
        study_name=name,
    )
    searcher.name_objectives(objectives)
    return ConcurrencyLimiter(searcher, max_concurrent=cfg.search.max_concurrent)


def max_epochs(cfg: StudyConfig) -> int:
    """Most epochs any trial of the space reports, over all its seeds (the inverse mode is the only
    sampled choice that changes the count): ASHA's ``max_t`` must not end a trial before its last
    phase."""
    import dataclasses

    return cfg.search.seeds * max(
        dataclasses.replace(
            cfg.trial, inverse=dataclasses.replace(cfg.trial.inverse, mode=mode)
        ).total_epochs()
        for mode in cfg.space.inverse_mode
    )


def make_scheduler(cfg: StudyConfig):
    """ASHA on the per-epoch validation accuracy, or FIFO."""
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    if cfg.search.scheduler != "asha":
        return FIFOScheduler()
    return ASHAScheduler(
        metric="val_accuracy",
        mode="max",
        time_attr="training_iteration",
        max_t=max_epochs(cfg) + 1,  # + the final report
        grace_period=cfg.search.grace_period,
    )


def distributions(space: SpaceConfig, params: dict) -> dict:
    """Optuna's distributions of a trial's ``params`` in ``space`` (the ones :class:`SearchSpace`
    would have suggested them from)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out = {}
    for param in PARAMS:
        values = getattr(space, param.name)
        if param.kind == "filters":
            for k in range(int(params.get("stages", 0))):
                out[f"filters_{k}"] = CategoricalDistribution(list(values))
        elif param.kind in ("stages", "int"):
            out[param.name] = IntDistribution(values[0], values[1])
        elif param.kind in ("float", "log"):
            out[param.name] = FloatDistribution(values[0], values[1], log=param.log)
        else:
            out[param.name] = CategoricalDistribution(list(values))
    return out


def _fits(dists: dict, params: dict) -> bool:
    """Every parameter of the new space is in ``params`` and inside its distribution."""
    if set(dists) != set(params):
        return False
    try:
        return all(d._contains(d.to_internal_repr(params[k])) for k, d in dists.items())
    except (ValueError, TypeError):
        return False


def warm_start(cfg: StudyConfig, study_dir: Path, name: str, earlier, tracker) -> tuple[int, int]:
    """Start study ``name``'s Optuna storage with the finished trials of the ``earlier`` study
    (a :class:`~study.files.directory.StudyInfo`) whose parameters fit this space: TPE then
    models them from the first trial instead of sampling ``startup_trials`` at random (it counts
    them as finished trials). Their objective values are this study's objectives read from the
    earlier trials' MLflow runs (every trial logs every final metric; ``alpha_error`` is remade
    with this study's target), so the objectives need not be the same. The imported trials carry
    ``imported_from`` (and the report's importances leave them out). Returns (imported, skipped)."""
    import math

    import optuna

    from study.files.tracking import TRIAL_TAG

    directions = [
        optuna.study.StudyDirection.MAXIMIZE if m == "max" else optuna.study.StudyDirection.MINIMIZE
        for m in cfg.search.modes
    ]
    study = optuna.create_study(
        study_name=name, storage=_storage(study_dir), directions=directions, load_if_exists=True
    )
    old = optuna.load_study(study_name=earlier.name, storage=_storage(earlier.dir))
    metrics = {
        run.data.tags.get(TRIAL_TAG): dict(run.data.metrics)
        for run in tracker.child_runs(earlier.experiment_id, earlier.parent_run_id)
        if run.info.status == "FINISHED"
    }
    imported = skipped = 0
    for trial in old.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        found = dict(metrics.get(trial.user_attrs.get("tune_trial_id"), {}))
        if "alpha" in found:
            found["alpha_error"] = abs(found["alpha"] - cfg.search.alpha_target)
        values = [found.get(o, math.nan) for o in cfg.search.objectives]
        dists = distributions(cfg.space, trial.params)
        if not _fits(dists, trial.params) or not all(math.isfinite(v) for v in values):
            skipped += 1
            continue
        source = f"{earlier.name}/{trial.user_attrs.get('tune_trial_id', trial.number)}"
        study.add_trial(
            optuna.trial.create_trial(
                params=dict(trial.params),
                distributions=dists,
                values=values,
                user_attrs={"imported_from": source},
            )
        )
        imported += 1
    return imported, skipped
