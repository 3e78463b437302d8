"""Confirmation rounds: chosen configurations of a study run again with fresh trial seeds.

The careful workflow is a cheap search (one seed per configuration), then a confirmation of the
configurations that matter with several seeds, so that what the study says about them rests on
more than one draw. ``scalefree confirm NAME --seeds K --trials front|ID,…`` adds a round to the
study:

* the chosen configurations are the Optuna parameters of finished search trials (``front``: the
  report's Pareto front);
* their seeds are fresh: the K seeds after every seed the study has used so far, so no run repeats;
* the round is written to ``studies/NAME/confirm.json`` before anything runs, and runs as a Tune
  experiment of its own (``confirm``, ``confirm-2``, …) in the study directory with the study's
  trainable, so ``scalefree resume`` continues an interrupted round like any other part;
* Optuna never sees it (no searcher): the search's record stays the search's;
* each confirmation trial's MLflow run is nested under the study's parent run and tagged
  ``scalefree.confirms`` with the trial it confirms, and that trial's run gets the confirmed mean
  and 95 % interval over the fresh seeds beside its own numbers (``confirmed_<metric>``,
  ``confirmed_<metric>_lo``/``_hi``, ``confirmed_n_seeds``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

from study.tracking import CONFIRMED_BY_TAG, CONFIRMS_TAG

__all__ = [
    "Round",
    "rounds",
    "plan",
    "add_round",
    "link",
    "confirmed_values",
    "CONFIRM_FILE",
    "experiment_of",
]

CONFIRM_FILE = "confirm.json"


@dataclasses.dataclass(frozen=True)
class Round:
    """One confirmation round: its Tune experiment, its fresh seeds and the configurations."""

    experiment: str  # folder in the study directory: confirm, confirm-2, …
    seeds: tuple[int, ...]
    trials: dict[str, dict]  # Tune id of the confirmed search trial → its Optuna parameters

    def param_sets(self) -> list[dict]:
        """One parameter set per configuration: its parameters, the seeds, what it confirms."""
        return [
            {**params, "seeds": list(self.seeds), "confirms": trial}
            for trial, params in self.trials.items()
        ]


def rounds(directory: Path) -> list[Round]:
    """The study's confirmation rounds in the order they were added."""
    path = Path(directory) / CONFIRM_FILE
    if not path.is_file():
        return []
    stored = json.loads(path.read_text())
    return [Round(r["experiment"], tuple(r["seeds"]), dict(r["trials"])) for r in stored]


def experiment_of(run_tags: dict) -> str | None:
    """The confirmed trial's Tune id for a confirmation run, else None (a search trial)."""
    return run_tags.get(CONFIRMS_TAG)


def _save(directory: Path, all_rounds: list[Round]) -> None:
    tmp = directory / f".{CONFIRM_FILE}.tmp"
    tmp.write_text(json.dumps([dataclasses.asdict(r) for r in all_rounds], indent=2))
    os.replace(tmp, directory / CONFIRM_FILE)


def _optuna_params(directory: Path, name: str) -> dict[str, dict]:
    """Tune trial id → the Optuna parameters of every COMPLETE trial of the search."""
    import optuna

    study = optuna.load_study(study_name=name, storage=f"sqlite:///{directory / 'optuna.db'}")
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return {
        t.user_attrs["tune_trial_id"]: dict(t.params)
        for t in complete
        if "tune_trial_id" in t.user_attrs
    }


def plan(info, cfg, tracker, *, seeds: int, trials: str) -> Round:
    """The next round: the chosen finished search trials with ``seeds`` fresh trial seeds.
    Raises ValueError naming ``--trials`` or ``--seeds`` for a choice that cannot run."""
    from study.report import front_rows

    if not (isinstance(seeds, int) and seeds >= 2):
        raise ValueError(
            f"--seeds: must be an integer >= 2 (one seed has no spread), but got {seeds!r}."
        )
    params = _optuna_params(info.dir, info.name)
    rows, done, front = front_rows(info, tracker, cfg)
    finished = {r["trial"] for r in rows if r["status"] == "FINISHED" and r["trial"] in params}
    if trials == "front":
        chosen = [d["trial"] for d, on in zip(done, front, strict=True) if on]
        if not chosen:
            raise ValueError(
                "--trials: must name trials, the study has no Pareto front yet, but got 'front'."
            )
    else:
        chosen = [t.strip() for t in trials.split(",") if t.strip()]
        unknown = [t for t in chosen if t not in finished]
        if not chosen or unknown:
            known = ", ".join(sorted(finished)) or "none"
            raise ValueError(
                f"--trials: must be 'front' or finished trials of the study ({known}), but got "
                f"{trials!r}."
            )
    earlier = rounds(info.dir)
    used = set(cfg.trial_seeds()) | {s for r in earlier for s in r.seeds}
    first = max(used) + 1
    name = "confirm" if not earlier else f"confirm-{len(earlier) + 1}"
    chosen = list(dict.fromkeys(chosen))  # in order, once
    return Round(name, tuple(range(first, first + seeds)), {t: params[t] for t in chosen})


def add_round(directory: Path, new: Round) -> None:
    """Record ``new`` in the study directory (atomically), before anything of it runs."""
    _save(Path(directory), [*rounds(directory), new])


def confirmed_values(metrics: dict, summarised: tuple[str, ...]) -> dict[str, float]:
    """``confirmed_<metric>`` (mean over the fresh seeds) and ``confirmed_<metric>_lo``/``_hi``
    made anew from a confirmation run's per-seed values (``seed<s>/<metric>``) by the trial's own
    :func:`trainables.seeds.summarise`, so that a study confirmed before a change of interval gets
    today's interval at its next report."""
    import numpy as np

    from study.effects import seed_values
    from trainables.seeds import summarise

    values = {"confirmed_n_seeds": metrics.get("n_seeds", 1)}
    for key in summarised:
        seeds = seed_values(metrics, key)
        if not seeds:
            continue
        made = summarise(key, seeds)
        values[f"confirmed_{key}"] = float(np.mean(seeds))
        values[f"confirmed_{key}_lo"] = made[f"{key}_lo"]
        values[f"confirmed_{key}_hi"] = made[f"{key}_hi"]
    return values


def _same(stored: float | None, value: float) -> bool:
    """Whether a logged metric already holds ``value``. Non-finite values are never logged
    (:meth:`study.tracking.Tracker.log_metrics`), so for those "missing" is "the same"."""
    if not math.isfinite(value):
        return stored is None or not math.isfinite(stored)
    return stored == value


def link(info, tracker, summarised: tuple[str, ...]) -> int:
    """Write every finished confirmation's mean and interval onto the run of the trial it
    confirms (the latest round wins); returns how many trials were updated (a trial whose values
    are already there is left alone)."""
    from study.tracking import TRIAL_TAG

    runs = tracker.child_runs(info.experiment_id, info.parent_run_id)
    by_trial = {r.data.tags.get(TRIAL_TAG): r for r in runs if not experiment_of(r.data.tags)}
    confirmations = sorted(
        (r for r in runs if experiment_of(r.data.tags) and r.info.status == "FINISHED"),
        key=lambda r: r.info.start_time,
    )
    latest = {experiment_of(r.data.tags): r for r in confirmations}  # the newest round wins
    updated = 0
    for trial, run in latest.items():
        original = by_trial.get(trial)
        if original is None:
            continue
        values = confirmed_values(run.data.metrics, summarised)
        current = original.data.metrics
        if original.data.tags.get(CONFIRMED_BY_TAG) == run.info.run_id and all(
            _same(current.get(k), v) for k, v in values.items()
        ):
            continue
        tracker.log_metrics(original.info.run_id, values)
        tracker.set_tags(original.info.run_id, {CONFIRMED_BY_TAG: run.info.run_id})
        updated += 1
    return updated
