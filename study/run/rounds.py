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
* an ablation (:func:`plan_ablation`, read by :mod:`study.read.ablation`) is a round of the same kind:
  one trial's configuration at every level of one parameter, each level with the same fresh seeds;
* each confirmation trial's MLflow run is nested under the study's parent run and tagged
  ``scalefree.confirms`` with the trial it confirms, and that trial's run gets the confirmed mean
  and 95 % interval over the fresh seeds beside its own numbers (``confirmed_<metric>``,
  ``confirmed_<metric>_lo``/``_hi``, ``confirmed_n_seeds``), written by the report
  (:mod:`study.read.confirmed`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from study.files.params import PARAMS

__all__ = [
    "Round",
    "rounds",
    "plan",
    "add_round",
    "fresh_seeds",
    "next_experiment",
    "optuna_params",
    "plan_ablation",
    "CONFIRM_FILE",
]

CONFIRM_FILE = "confirm.json"


@dataclasses.dataclass(frozen=True)
class Round:
    """One round of fixed configurations run with fresh seeds: a confirmation (``kind`` confirm:
    chosen search trials) or an ablation (``kind`` ablate: one trial's configuration with one
    parameter set to each of its levels, :mod:`study.read.ablation`)."""

    experiment: str  # folder in the study directory: confirm, confirm-2, …, ablate, ablate-2, …
    seeds: tuple[int, ...]
    # confirm: Tune id of the confirmed search trial → its Optuna parameters;
    # ablate: level label ("stages=2") → the parameters of that level
    trials: dict[str, dict]
    kind: str = "confirm"
    base: str = ""  # ablate: the Tune id of the trial whose configuration is varied
    vary: str = ""  # ablate: the Optuna parameter varied

    def param_sets(self) -> list[dict]:
        """One parameter set per configuration: its parameters, the seeds, what it confirms (or
        which ablation and level it is)."""
        common = {"seeds": list(self.seeds)}
        if self.kind == "ablate":
            return [
                {
                    **params,
                    **common,
                    "ablation": self.experiment,
                    "level": label,
                    "ablates": self.base,
                }
                for label, params in self.trials.items()
            ]
        return [{**params, **common, "confirms": trial} for trial, params in self.trials.items()]


def rounds(directory: Path) -> list[Round]:
    """The study's confirmation and ablation rounds in the order they were added."""
    path = Path(directory) / CONFIRM_FILE
    if not path.is_file():
        return []
    stored = json.loads(path.read_text())
    return [
        Round(
            r["experiment"],
            tuple(r["seeds"]),
            dict(r["trials"]),
            r.get("kind", "confirm"),
            r.get("base", ""),
            r.get("vary", ""),
        )
        for r in stored
    ]


def fresh_seeds(cfg, directory: Path, count: int) -> tuple[int, ...]:
    """``count`` trial seeds after every seed the study has used (search and every round)."""
    used = set(cfg.trial_seeds()) | {s for r in rounds(directory) for s in r.seeds}
    first = max(used) + 1
    return tuple(range(first, first + count))


def next_experiment(directory: Path, kind: str) -> str:
    """The folder of the next round of ``kind``: confirm, confirm-2, … or ablate, ablate-2, …"""
    count = sum(r.kind == kind for r in rounds(directory))
    return kind if not count else f"{kind}-{count + 1}"


def _save(directory: Path, all_rounds: list[Round]) -> None:
    tmp = directory / f".{CONFIRM_FILE}.tmp"
    tmp.write_text(json.dumps([dataclasses.asdict(r) for r in all_rounds], indent=2))
    os.replace(tmp, directory / CONFIRM_FILE)


def optuna_params(directory: Path, name: str) -> dict[str, dict]:
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
    from study.read.report import front_rows

    if not (isinstance(seeds, int) and seeds >= 2):
        raise ValueError(
            f"--seeds: must be an integer >= 2 (one seed has no spread), but got {seeds!r}."
        )
    params = optuna_params(info.dir, info.name)
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
    chosen = list(dict.fromkeys(chosen))  # in order, once
    return Round(
        next_experiment(info.dir, "confirm"),
        fresh_seeds(cfg, info.dir, seeds),
        {t: params[t] for t in chosen},
    )


def add_round(directory: Path, new: Round) -> None:
    """Record ``new`` in the study directory (atomically), before anything of it runs."""
    _save(Path(directory), [*rounds(directory), new])


VARIED = tuple(p.name for p in PARAMS if p.kind != "filters")  # --vary space.<one of these>


def _parse_vary(vary: str) -> tuple[str, list]:
    import yaml

    key, sep, raw = vary.partition("=")
    name = key.strip().removeprefix("space.")
    known = (*VARIED, *(f"filters_{k}" for k in range(8)))
    if not sep or not key.strip().startswith("space.") or name not in known:
        raise ValueError(
            f"--vary: must be space.<parameter>=[levels] with a parameter of {list(VARIED)} or "
            f"filters_<k>, but got {vary!r}."
        )
    try:
        levels = yaml.safe_load(raw)
    except yaml.YAMLError:
        levels = None
    if not isinstance(levels, list) or len(levels) < 2 or len(set(map(str, levels))) < len(levels):
        raise ValueError(
            f"--vary: must give at least two distinct levels as a list, e.g. "
            f"space.{name}=[1,2,3], but got {vary!r}."
        )
    return name, levels


def _with_level(params: dict, name: str, value, space) -> dict:
    """The base's Optuna parameters with ``name`` set to ``value``. A new stage gets the smallest
    filter choice of the space at least twice the stage before it (the paper's 256/512/1024
    doubling), else the largest choice; the base's filters stay for the stages it has."""
    out = dict(params) | {name: value}
    if name == "stages":
        choices = sorted(space.filters)
        for k in range(int(value)):
            if f"filters_{k}" not in out:
                wanted = 2 * int(out[f"filters_{k - 1}"]) if k else choices[0]
                out[f"filters_{k}"] = next((f for f in choices if f >= wanted), choices[-1])
        for k in range(int(value), 8):
            out.pop(f"filters_{k}", None)
    return out


def plan_ablation(info, cfg, tracker, *, trial: str, vary: str, seeds: int):
    """The ablation round (:class:`study.run.rounds.Round`) of ``trial`` over ``vary``'s levels with
    ``seeds`` fresh seeds. Raises ValueError naming ``--trial``, ``--vary`` or ``--seeds``."""
    from study.read.report import finished_trials
    from study.run.search import apply_params, base_flat
    from study.run.trainable import configuration
    from trainables.config import from_flat

    if not (isinstance(seeds, int) and seeds >= 2):
        raise ValueError(
            f"--seeds: must be an integer >= 2 (a level needs a spread), but got {seeds!r}."
        )
    name, levels = _parse_vary(vary)
    params = optuna_params(info.dir, info.name)
    finished = {
        r["trial"]
        for r in finished_trials(info, tracker)
        if r["status"] == "FINISHED" and not r.get("confirms") and not r.get("ablation")
    }
    if trial not in params or trial not in finished:
        known = ", ".join(sorted(t for t in finished if t in params)) or "none"
        raise ValueError(
            f"--trial: must be a finished search trial of the study ({known}), but got {trial!r}."
        )
    sets = {}
    for value in levels:
        level = _with_level(params[trial], name, value, cfg.space)
        try:
            from_flat(apply_params(base_flat(cfg), configuration(level)))
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"--vary: level {name}={value!r} is no valid trial: {err}") from None
        sets[f"{name}={value}"] = level
    return Round(
        next_experiment(info.dir, "ablate"),
        fresh_seeds(cfg, info.dir, seeds),
        sets,
        kind="ablate",
        base=trial,
        vary=name,
    )
