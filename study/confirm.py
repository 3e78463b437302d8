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
  ``confirmed_<metric>_lo``/``_hi``, ``confirmed_n_seeds``), written by the report
  (:mod:`study.confirmed`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

__all__ = ["Round", "rounds", "plan", "add_round", "CONFIRM_FILE"]

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
