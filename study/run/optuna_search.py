"""Ray Tune's OptunaSearch, with the Optuna study readable on its own (optuna-dashboard).

Each Optuna trial carries its Tune trial id from the moment it is asked, and its MLflow run id and
run name when it completes (the trainable puts them in its final result); the study names its
objectives. A module of its own so that Tune can pickle the searcher for resume by qualified name.
"""

from __future__ import annotations

import optuna
from ray.tune.search.optuna import OptunaSearch

__all__ = ["LinkedOptunaSearch", "complete_from_run"]

RUN_KEYS = ("mlflow_run_id", "mlflow_run_name")  # final-result keys copied to user attributes


class LinkedOptunaSearch(OptunaSearch):
    """OptunaSearch that links Optuna trials to Tune trials and MLflow runs."""

    def name_objectives(self, names: list[str]) -> None:
        self._ot_study.set_metric_names(list(names))

    def suggest(self, trial_id: str):
        params = super().suggest(trial_id)
        trial = self._ot_trials.get(trial_id)
        if trial is not None and "tune_trial_id" not in trial.user_attrs:
            trial.set_user_attr("tune_trial_id", trial_id)
        return params

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        # OptunaSearch reports a single objective at every result as an intermediate value. The
        # objectives are final metrics (alpha_error, validated_skill, …) that per-epoch rows do not
        # carry: those rows are skipped, not a KeyError that ends the study.
        if isinstance(self.metric, str) and self.metric not in result:
            return
        super().on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        trial = self._ot_trials.get(trial_id)
        if trial is None or trial_id in self._completed_trials:
            return super().on_trial_complete(trial_id, result=result, error=error)
        frozen = self._ot_study._storage.get_trial(trial._trial_id)
        if frozen.state.is_finished():
            # Already told before a driver died (COMPLETE: nothing to add), or marked FAIL by an
            # interrupted driver and continued after resume: Optuna cannot tell a finished trial,
            # so its result goes into a COMPLETE copy.
            self._completed_trials.add(trial_id)
            failed = frozen.state == optuna.trial.TrialState.FAIL
            if failed and result and not error:
                _add_complete(self._ot_study, frozen, _values(self.metric, result), result)
            return None
        for key in RUN_KEYS:
            if result and result.get(key):
                trial.set_user_attr(key, str(result[key]))
        return super().on_trial_complete(trial_id, result=result, error=error)


def _values(metric: str | list[str], result: dict) -> list[float] | None:
    names = metric if isinstance(metric, list) else [metric]
    values = [result.get(name) for name in names]
    return None if any(v is None for v in values) else [float(v) for v in values]


def _add_complete(study, frozen, values: list[float] | None, links: dict) -> None:
    """A COMPLETE copy of ``frozen`` (params, distributions, user attributes) with ``values``."""
    if values is None:
        return
    attrs = {**frozen.user_attrs, "replaces_trial": frozen.number}
    attrs |= {k: str(links[k]) for k in RUN_KEYS if links.get(k)}
    study.add_trial(
        optuna.trial.create_trial(
            params=frozen.params,
            distributions=frozen.distributions,
            values=values,
            user_attrs=attrs,
        )
    )


def complete_from_run(study, finished: dict) -> None:
    """For every finished trial (Tune trial id → its FINISHED MLflow run) without a COMPLETE Optuna
    trial, add one with the run's objective values (the study's metric names)."""
    names = study.metric_names
    if not names:
        return
    by_trial: dict[str, list] = {}
    for trial in study.get_trials(deepcopy=False):
        by_trial.setdefault(trial.user_attrs.get("tune_trial_id"), []).append(trial)
    for trial_id, run in finished.items():
        trials = by_trial.get(trial_id, [])
        if not trials or any(t.state == optuna.trial.TrialState.COMPLETE for t in trials):
            continue
        links = {"mlflow_run_id": run.info.run_id, "mlflow_run_name": run.info.run_name}
        _add_complete(study, trials[0], _values(list(names), run.data.metrics), links)
