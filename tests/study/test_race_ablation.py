"""Seeds spent where they decide (confirm --race) and designed comparisons (ablate)."""

import json

import numpy as np
import pytest
from studyutil import cli, kill_9_when_running, launched_trial_ids, start, trial_runs, write_tiny

from study.files.config import SpaceConfig
from study.run.race import Race, race_step
from study.run.rounds import _parse_vary, _with_level

OBJECTIVES = ["validated_skill", "alpha"]


def _race(rng, centres: dict, *, max_seeds: int = 8) -> dict:
    """Run the race policy on draws: each configuration's values scatter around its centres."""
    race = Race(tuple(centres), max_seeds=max_seeds, start_seeds=3)
    values: dict = {}

    def draw(t: str, n: int) -> None:
        skill, alpha = centres[t]
        got = values.setdefault(t, {o: [] for o in OBJECTIVES})
        got["validated_skill"] += list(rng.normal(skill, 0.05, n))
        got["alpha"] += list(1 + np.exp(rng.normal(np.log(alpha - 1), 0.3, n)))

    for _ in range(100):
        fresh, more, _ = race_step(values, OBJECTIVES, race)
        if not fresh and not more:
            return {t: len(v["alpha"]) for t, v in values.items()}
        for t in fresh:
            draw(t, race.start_seeds)
        for t in more:
            draw(t, 1)
    raise AssertionError("the race did not end")


def test_race_stops_early_when_one_configuration_is_far_ahead():
    # Rule: intervals apart on every objective after the first seeds: no seed more is spent.
    seeds = _race(np.random.default_rng(0), {"a": (0.6, 3.0), "b": (0.1, 12.0)})
    assert seeds == {"a": 3, "b": 3}


def test_race_goes_to_the_cap_when_two_configurations_are_the_same():
    # Rule: identical configurations never separate: both get max_seeds, and no more.
    seeds = _race(np.random.default_rng(1), {"a": (0.4, 5.0), "b": (0.4, 5.0)}, max_seeds=6)
    assert seeds == {"a": 6, "b": 6}


def test_race_spends_seeds_only_on_the_undecided():
    # a is far from b and c on skill; b and c are the same: only b and c get more seeds.
    centres = {"a": (0.9, 3.0), "b": (0.2, 6.0), "c": (0.2, 6.0)}
    seeds = _race(np.random.default_rng(2), centres, max_seeds=7)
    assert seeds["b"] == seeds["c"] == 7 and seeds["a"] < 7


def test_vary_is_parsed_and_refused_by_name():
    assert _parse_vary("space.stages=[1,2,3]") == ("stages", [1, 2, 3])
    assert _parse_vary("space.bound=[true, false]") == ("bound", [True, False])
    for bad, needle in (
        ("stages=[1,2]", "--vary: must be space.<parameter>=[levels]"),
        ("space.nope=[1,2]", "--vary: must be space.<parameter>=[levels]"),
        ("space.stages=[1]", "--vary: must give at least two distinct levels"),
        ("space.stages=[1,1]", "--vary: must give at least two distinct levels"),
        ("space.stages=3", "--vary: must give at least two distinct levels"),
    ):
        with pytest.raises(ValueError, match=needle.replace("[", r"\[")):
            _parse_vary(bad)


def test_a_deeper_level_doubles_the_filters_of_the_stage_before_it():
    # Rule: the base's filters stay; a new stage gets the smallest choice ≥ twice the last one.
    base = {"stages": 1, "filters_0": 16, "fc": 128}
    space = SpaceConfig(filters=(16, 32, 64))
    assert _with_level(base, "stages", 3, space) == {
        "stages": 3,
        "filters_0": 16,
        "filters_1": 32,
        "filters_2": 64,
        "fc": 128,
    }
    two = {"stages": 2, "filters_0": 16, "filters_1": 64}
    assert _with_level(two, "stages", 3, space)["filters_2"] == 64  # capped at the largest
    assert _with_level(two, "stages", 1, space) == {"stages": 1, "filters_0": 16}


@pytest.mark.slow
def test_ablate_gives_one_run_a_level_and_survives_kill_9(tmp_path):
    config = write_tiny(tmp_path, "search: {num_samples: 1, max_concurrent: 2}\n")
    proc = cli(["launch", str(config), "--name", "abl"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, _, (trial,) = trial_runs(tmp_path, "abl")
    trial_id = trial.data.tags["scalefree.trial_id"]
    # Bad input: one line, exit 2, nothing recorded.
    for args, needle in (
        (["--trial", "nope", "--vary", "space.stages=[1,2]"], "--trial: must be a finished"),
        (["--trial", trial_id, "--vary", "space.stages=[1,9]"], "--vary: level stages=9"),
        (["--trial", trial_id, "--vary", "space.stages=[1,2]", "--seeds", "1"], "--seeds"),
    ):
        proc = cli(["ablate", "abl", *args], tmp_path, timeout=120)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr[-2000:]
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "studies" / "abl" / "confirm.json").exists()
    args = ["ablate", "abl", "--trial", trial_id, "--vary", "space.stages=[1,2]", "--seeds", "2"]
    driver = start(args, tmp_path)
    kill_9_when_running(driver, tmp_path / "mlflow.db", "scalefree.ablation", 2)
    proc = cli(["resume", "abl"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    client, info, runs = trial_runs(tmp_path, "abl")
    levels = [r for r in runs if r.data.tags.get("scalefree.ablation") == "ablate"]
    # One run a level, each with both seeds, each epoch logged once; Optuna never saw them.
    assert sorted(r.data.tags["scalefree.level"] for r in levels) == ["stages=1", "stages=2"]
    for run in levels:
        assert run.info.status == "FINISHED" and run.data.metrics["n_seeds"] == 2
        assert run.data.tags["scalefree.ablates"] == trial_id
        assert json.loads(run.data.params["search.seeds"]) == [1, 2]  # after the search's 0
        assert run.data.params["forward.stages"] == run.data.tags["scalefree.level"][-1]
        for s in (1, 2):
            history = client.get_metric_history(run.info.run_id, f"seed{s}/forward_val_accuracy")
            assert sorted(m.step for m in history) == [1, 2]
    # The report compares the levels: one row a level and objective, differences, the ICC.
    proc = cli(["report", "abl"], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ablate: trial" in proc.stdout and "stages=2 − stages=1" in proc.stdout
    rows = (tmp_path / "studies" / "abl" / "report" / "ablation.csv").read_text().splitlines()
    header = rows[0].split(",")
    level_rows = [r.split(",") for r in rows[1:] if r.split(",")[header.index("row")] == "level"]
    alpha_hill = [r for r in level_rows if r[header.index("objective")] == "alpha_hill"]
    assert sorted(r[header.index("level")] for r in alpha_hill) == ["stages=1", "stages=2"]
    parent = client.get_run(info["parent_run_id"]).data.metrics
    assert "ablation/ablate/icc_alpha_hill" in parent
    # the search's Pareto front holds the search trial only
    trials_csv = (tmp_path / "studies" / "abl" / "report" / "trials.csv").read_text()
    assert len(trials_csv.strip().splitlines()) == 2


@pytest.mark.slow
def test_a_race_confirms_then_adds_seeds_only_while_intervals_overlap(tmp_path):
    ids = ",".join(launched_trial_ids(tmp_path, "race", 2))
    args = ["confirm", "race", "--race", "--seeds", "2", "--max-seeds", "3", "--trials", ids]
    proc = cli(args, tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[race] over:" in proc.stdout
    client, _, runs = trial_runs(tmp_path, "race")
    confirmations = [r for r in runs if r.data.tags.get("scalefree.confirms")]
    seeds = {}
    for run in confirmations:
        seeds.setdefault(run.data.tags["scalefree.confirms"], []).extend(
            json.loads(run.data.params["search.seeds"])
        )
    assert sorted(seeds) == sorted(ids.split(","))
    assert all(len(s) in (2, 3) and len(set(s)) == len(s) for s in seeds.values()), seeds
    race = json.loads((tmp_path / "studies" / "race" / "race.json").read_text())
    assert race["done"] is True
    # The confirmed numbers pool every round's seeds.
    originals = [r for r in runs if not r.data.tags.get("scalefree.confirms")]
    for run in originals:
        n = len(seeds[run.data.tags["scalefree.trial_id"]])
        assert client.get_run(run.info.run_id).data.metrics["confirmed_n_seeds"] == n
    # status counts configurations, not rounds: two, with every round's seeds
    status = cli(["status", "race"], tmp_path, timeout=120).stdout
    total = sum(len(s) for s in seeds.values())
    assert f"confirmed: 2 configurations with fresh seeds ({total} seed runs)" in status, status
