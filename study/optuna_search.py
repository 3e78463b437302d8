"""Ray Tune's OptunaSearch, with the Optuna study readable on its own (optuna-dashboard).

Each Optuna trial carries its Tune trial id from the moment it is asked, and its MLflow run id and
run name when it completes (the trainable puts them in its final result); the study names its
objectives. A module of its own so that Tune can pickle the searcher for resume by qualified name.
"""

from __future__ import annotations

from ray.tune.search.optuna import OptunaSearch

__all__ = ["LinkedOptunaSearch"]

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

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        trial = self._ot_trials.get(trial_id)
        if trial is not None and result and trial_id not in self._completed_trials:
            for key in RUN_KEYS:
                if result.get(key):
                    trial.set_user_attr(key, str(result[key]))
        super().on_trial_complete(trial_id, result=result, error=error)
