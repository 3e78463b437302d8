"""Seeds spent where they decide: a confirmation race (``scalefree confirm NAME --race``).

A fixed number of seeds per confirmed configuration is too many where one configuration is far
ahead and too few where two are close. A race adds one fresh seed at a time, only to the
configurations whose interval on some objective still overlaps another's, and stops when none
does or each has ``max_seeds`` seeds. This follows racing in irace (configurations eliminated by a
test after each instance) and SMAC's intensifier (a challenger gets more seeds only while it might
beat the incumbent); here nothing is eliminated, since the study wants every configuration's
interval, not one winner.

The race is written to ``studies/NAME/race.json`` (its configurations and ``max_seeds``) before
anything runs, and every step is an ordinary confirmation round (:mod:`study.run.rounds`) recorded
before it runs. The state of the race is what MLflow holds (the seeds each configuration's
finished confirmations pooled), so ``scalefree resume`` after kill -9 finishes the round that was
running and goes on racing from there.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

__all__ = ["Race", "RACE_FILE", "undecided", "race_step", "load_race", "save_race", "next_round"]

RACE_FILE = "race.json"
MAX_SEEDS = 8  # the default cap on a configuration's seeds


@dataclasses.dataclass(frozen=True)
class Race:
    trials: tuple[str, ...]  # Tune ids of the raced search trials
    max_seeds: int = MAX_SEEDS
    start_seeds: int = 3  # seeds of a configuration's first confirmation
    done: bool = False


def load_race(directory: Path) -> Race | None:
    path = Path(directory) / RACE_FILE
    if not path.is_file():
        return None
    stored = json.loads(path.read_text())
    return Race(tuple(stored["trials"]), stored["max_seeds"], stored["start_seeds"], stored["done"])


def save_race(directory: Path, race: Race) -> None:
    tmp = Path(directory) / f".{RACE_FILE}.tmp"
    tmp.write_text(json.dumps(dataclasses.asdict(race), indent=2))
    os.replace(tmp, Path(directory) / RACE_FILE)


def _interval(objective: str, values: list[float]):
    from analysis.uncertainty import Interval
    from trainables.seeds import summarise

    made = summarise(objective, values)
    return Interval(made[f"{objective}_lo"], made[f"{objective}_hi"], len(values))


def undecided(values: dict[str, dict[str, list[float]]], objectives: list[str]) -> dict[str, str]:
    """Configuration → the first objective on which its interval over seeds (the study's own,
    :func:`trainables.seeds.summarise`) overlaps another configuration's, for those it does; a
    configuration without an interval yet (under two seeds) overlaps everything."""
    out = {}
    for trial, own in values.items():
        for objective in objectives:
            mine = _interval(objective, own.get(objective, []))
            others = [
                _interval(objective, v.get(objective, [])) for t, v in values.items() if t != trial
            ]
            if any(not mine.made or not o.made or mine.overlaps(o) for o in others):
                out[trial] = objective
                break
    return out


def race_step(
    values: dict[str, dict[str, list[float]]], objectives: list[str], race: Race
) -> tuple[list[str], list[str], dict[str, str]]:
    """(configurations without a confirmation yet: they get ``start_seeds``; configurations that
    get one more seed; why each of those is undecided). Both empty: the race is over."""
    counts = {t: max((len(v) for v in values.get(t, {}).values()), default=0) for t in race.trials}
    fresh = [t for t in race.trials if counts[t] == 0]
    if fresh:
        return fresh, [], {}
    why = undecided({t: values.get(t, {}) for t in race.trials}, objectives)
    more = [t for t in race.trials if t in why and counts[t] < race.max_seeds]
    return [], more, {t: why[t] for t in more}


def confirmed_seed_values(info, tracker, objectives: list[str]) -> dict[str, dict[str, list]]:
    """Confirmed trial → objective → every seed value of its finished confirmation runs."""
    from study.read.confirmed import confirmation_runs
    from study.read.effects import seed_values

    runs = tracker.child_runs(info.experiment_id, info.parent_run_id)
    out = {}
    for trial, confirming in confirmation_runs(runs).items():
        metrics = [r.data.metrics for r in confirming]
        out[trial] = {o: seed_values({}, o, metrics) for o in objectives}
    return out


def next_round(info, cfg, tracker, race: Race):
    """The race's next confirmation round (:class:`study.run.rounds.Round`), with a line saying why,
    or (None, the line that ends the race)."""
    from study.run.rounds import Round, fresh_seeds, next_experiment, optuna_params

    objectives = list(cfg.search.objectives)
    values = confirmed_seed_values(info, tracker, objectives)
    fresh, more, why = race_step(values, objectives, race)
    counts = {t: max((len(v) for v in values.get(t, {}).values()), default=0) for t in race.trials}
    if not fresh and not more:
        capped = [t for t in race.trials if counts[t] >= race.max_seeds]
        left = undecided({t: values.get(t, {}) for t in race.trials}, objectives)
        if left:
            end = (
                f"[race] over: {len(left)} of {len(race.trials)} configurations still overlap "
                f"at {race.max_seeds} seeds ({', '.join(sorted(left))}); more seeds or a "
                "designed comparison (`scalefree ablate`) would tell them apart"
            )
        else:
            end = (
                f"[race] over: every configuration's interval is apart from the others' on "
                f"{', '.join(objectives)} (seeds: "
                f"{', '.join(f'{t} {counts[t]}' for t in race.trials)}; {len(capped)} at the cap)"
            )
        return None, end
    params = optuna_params(info.dir, info.name)
    chosen = fresh or more
    count = race.start_seeds if fresh else 1
    new = Round(
        next_experiment(info.dir, "confirm"),
        fresh_seeds(cfg, info.dir, count),
        {t: params[t] for t in chosen},
    )
    if fresh:
        line = f"[race] first confirmation of {len(fresh)} configuration(s), {count} seeds each"
    else:
        reasons = ", ".join(f"{t} on {o} ({counts[t]} seeds)" for t, o in why.items())
        line = f"[race] one more seed where intervals overlap: {reasons}"
    return new, line
