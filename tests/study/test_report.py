"""The report reads real MLflow runs: collapsed trials stay off the Pareto front, and it says so."""

from __future__ import annotations

import csv
import json

import mlflow

from study.files.config import config_yaml, load_config
from study.files.tracking import COLLAPSED_TAG, STUDY_TAG, TRIAL_TAG
from study.read.report import report


def _study(tmp_path, trials: dict[str, dict]) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment("t", artifact_location=(tmp_path / "art").as_uri())
    parent = client.create_run(experiment, run_name="s", tags={STUDY_TAG: "s"}).info.run_id
    for trial, (metrics, tags, *params) in trials.items():
        run = client.create_run(
            experiment,
            run_name=trial,
            tags={TRIAL_TAG: trial, "mlflow.parentRunId": parent, **tags},
        ).info.run_id
        for key, value in metrics.items():
            client.log_metric(run, key, value)
        for key, value in (params[0] if params else {}).items():
            client.log_param(run, key, value)
        client.set_terminated(run, "FINISHED")
    directory = tmp_path / "studies" / "s"
    directory.mkdir(parents=True)
    (directory / "config.yaml").write_text(config_yaml(load_config("smoke")))
    info = {"name": "s", "tracking_uri": uri, "experiment_id": experiment, "parent_run_id": parent}
    (directory / "study.json").write_text(json.dumps(info))
    return str(directory)


def test_a_collapsed_trial_is_left_off_the_front_and_named(tmp_path, capsys):
    # Rule: a collapsed trial's numbers are not a tradeoff; even if it would dominate every other
    # trial, the front is built without it and the report names it with its reason.
    good = {"validated_skill": 0.1, "alpha": 6.0, "validated_accuracy": 0.9, "collapsed": 0.0}
    fine = {"validated_skill": 0.2, "alpha": 8.0, "validated_accuracy": 0.91, "collapsed": 0.0}
    dead = {"validated_skill": 0.9, "alpha": 2.0, "validated_accuracy": 0.99, "collapsed": 1.0}
    reason = "designed w_avg ignores the targets (w_avg_correlation=0 < 0.5)"
    directory = _study(
        tmp_path,
        {"a": (good, {}), "b": (fine, {}), "c": (dead, {COLLAPSED_TAG: reason})},
    )
    out = report(directory)
    printed = capsys.readouterr().out
    assert "1 collapsed" in printed and f"c: {reason}" in printed
    with open(out / "trials.csv") as fh:
        rows = {r["trial"]: r for r in csv.DictReader(fh)}
    assert rows["c"]["pareto"] == "False" and rows["c"]["collapsed_reason"] == reason
    assert rows["a"]["pareto"] == "True" and rows["b"]["pareto"] == "True"


def test_front_members_are_tagged_and_the_parent_holds_the_best_values(tmp_path):
    # Rule: MLflow shows the front: scalefree.pareto on every finished trial, best objective
    # values and the front's run names on the parent run; figures are written.
    a = {"validated_skill": 0.1, "alpha": 6.0, "collapsed": 0.0}
    b = {"validated_skill": 0.2, "alpha": 8.0, "collapsed": 0.0}
    c = {"validated_skill": 0.05, "alpha": 9.0, "collapsed": 0.0}  # dominated by a
    directory = _study(tmp_path, {"a": (a, {}), "b": (b, {}), "c": (c, {})})
    out = report(directory)
    info = json.loads((tmp_path / "studies" / "s" / "study.json").read_text())
    client = mlflow.MlflowClient(info["tracking_uri"])
    runs = client.search_runs([info["experiment_id"]], "tags.`mlflow.parentRunId` != ''")
    assert {r.info.run_name: r.data.tags["scalefree.pareto"] for r in runs} == {
        "a": "true",
        "b": "true",
        "c": "false",
    }
    parent = client.get_run(info["parent_run_id"]).data
    assert parent.metrics["best_validated_skill"] == 0.2 and parent.metrics["best_alpha"] == 6.0
    assert set(parent.tags["scalefree.pareto_trials"].split(", ")) == {"a", "b"}
    assert (out / "skill_vs_alpha.png").stat().st_size > 10_000


def test_refined_designs_are_marked_and_the_nets_own_accuracy_shown(tmp_path, capsys):
    # Rule: a trial whose designs were refined through the true Hamiltonian reports the refined
    # structures' numbers; the report says so and shows what the net alone validated.
    plain = {"validated_skill": 0.1, "alpha": 6.0, "validated_accuracy": 0.93, "collapsed": 0.0}
    refined = {
        "validated_skill": 0.5,
        "alpha": 7.0,
        "validated_accuracy": 0.97,
        "net_validated_accuracy": 0.931,
        "collapsed": 0.0,
    }
    directory = _study(
        tmp_path,
        {"a": (plain, {}), "b": (refined, {}, {"inverse.refine_steps": "10"})},
    )
    report(directory)
    printed = capsys.readouterr().out
    line = next(row for row in printed.splitlines() if row[2:].startswith("b "))
    assert " r10" in line, printed
    flat = " ".join(printed.split())  # the note may wrap anywhere
    assert "refined by N steps through the true Hamiltonian" in flat
    assert "the net's own designs validated b 0.931" in flat
    plain_line = next(row for row in printed.splitlines() if row[2:].startswith("a "))
    assert " r" not in plain_line.split()[1:3], plain_line


def test_a_tail_mostly_beyond_the_training_range_is_marked(tmp_path, capsys):
    # Rule: a heavy verdict resting on atoms flung out of the training range is not read as a
    # tail: the report marks it and says how much of the tail lies out there.
    flung = {"validated_skill": 0.4, "alpha": 2.4, "collapsed": 0.0, "tail_out_of_range": 0.81}
    inside = {"validated_skill": 0.3, "alpha": 8.0, "collapsed": 0.0, "tail_out_of_range": 0.0}
    heavy = {"scalefree.alpha_verdict": "heavy"}
    directory = _study(tmp_path, {"flung": (flung, heavy), "inside": (inside, heavy)})
    out = report(directory)
    printed = capsys.readouterr().out
    assert printed.count("heavy†") == 1 and "flung 81%" in printed and "inside 0%" not in printed
    with open(out / "trials.csv") as fh:
        rows = {r["trial"]: r for r in csv.DictReader(fh)}
    assert rows["flung"]["tail_out_of_range"] == "0.81"


def test_every_effect_goes_to_the_parent_run_with_its_interval():
    # Rule: a level difference is effect/<objective>/<param>/<a>-<b>, a slope
    # effect/<objective>/<param>/slope_per_decade, each with _lo and _hi.
    from study.read.answers import effect_metric, log_effects
    from study.read.effects import PER_DECADE, Effect

    level = Effect("stages", "alpha", 2, 1, -3.1, -6.0, -0.4, "resolved", 4, 3, 12, 3)
    slope = Effect("l2", "alpha", PER_DECADE, "", 1.2, 0.3, 2.0, "resolved", 11, 0, 11, 0)
    assert effect_metric(level) == "effect/alpha/stages/2-1"
    assert effect_metric(slope) == "effect/alpha/l2/slope_per_decade"

    class Tracker:
        metrics, tags = {}, {}

        def log_metrics(self, run, values):
            self.metrics |= values

        def set_tags(self, run, tags):
            self.tags |= tags

    tracker = Tracker()
    log_effects(tracker, "parent", [level, slope], {}, 0)
    assert tracker.metrics["effect/alpha/stages/2-1"] == -3.1
    assert tracker.metrics["effect/alpha/stages/2-1_lo"] == -6.0
    assert tracker.metrics["effect/alpha/l2/slope_per_decade_hi"] == 2.0
    assert tracker.metrics["effects_resolved"] == 2
