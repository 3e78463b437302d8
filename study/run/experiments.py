"""The study's Tune experiments on disk: which exist, which trials they hold and in what state.

A study runs its search in ``tune``, then (after a killed driver lost trials) ``tune-2``, …, and
each confirmation or ablation round in its own experiment (:mod:`study.run.rounds`). The driver
reads them to know what is left to run, and the end of a study reads them to close what a killed
driver left open (:mod:`study.run.finish`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ENDED",
    "experiments",
    "round_experiments",
    "statuses",
    "statuses_of",
    "ended",
    "check_not_interrupted",
]


ENDED = ("TERMINATED", "ERROR")  # Tune statuses of trials that will not run again


def experiments(directory: Path) -> list[Path]:
    """The study's Tune experiments in the order they were started: tune, tune-2, tune-3, …"""
    found = [p for p in directory.glob("tune*") if (p / "tuner.pkl").is_file()]
    return sorted(found, key=lambda p: int(p.name.partition("-")[2] or 1))


def round_experiments(directory: Path) -> list[Path]:
    """The Tune experiments of the study's confirmation rounds that have started."""
    from study.run.rounds import rounds

    paths = [directory / r.experiment for r in rounds(directory)]
    return [p for p in paths if (p / "tuner.pkl").is_file()]


def statuses(directory: Path, *, confirmations: bool = True) -> dict[str, str]:
    """Tune trial id → status over every experiment of the study (search, then confirmation)."""
    statuses = {}
    paths = experiments(directory) + (round_experiments(directory) if confirmations else [])
    for path in paths:  # one killed before its first snapshot has no trials to read
        statuses |= statuses_of(path)
    return statuses


def statuses_of(path: Path) -> dict[str, str]:
    """Tune trial id → status in one experiment ({} before its first snapshot)."""
    from ray.tune import ExperimentAnalysis

    try:
        return {t.trial_id: t.status for t in ExperimentAnalysis(str(path)).trials}
    except (ValueError, FileNotFoundError, RuntimeError):
        return {}


def ended(directory: Path) -> int:
    """Search trials that ended (confirmations do not count towards ``num_samples``)."""
    found = statuses(directory, confirmations=False)
    return sum(status in ENDED for status in found.values())


def check_not_interrupted(experiment: Path) -> None:
    """Tune returns normally after Ctrl-C, its state saved with trials left to run (PENDING, or
    PAUSED): make that an interrupt. (The result grid in memory may already call them ended.)"""
    if any(status not in ENDED for status in statuses_of(experiment).values()):
        raise KeyboardInterrupt
