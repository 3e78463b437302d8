"""Seeds per configuration and confirmation rounds, through the CLI as users run them."""

import json
import math

import mlflow
import numpy as np
import optuna
import pytest
from studyutil import (
    CONTRACT_METRICS,
    cli,
    kill_9_when_running,
    launched_trial_ids,
    start,
    trial_runs,
    write_tiny,
)

import physics

TWO_SEEDS = "search: {num_samples: 1, max_concurrent: 2, seeds: 2}\n"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("seeds")
    proc = cli(["launch", str(write_tiny(cwd, TWO_SEEDS)), "--name", "seeded"], cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return cwd


def _validated(path) -> float:
    with np.load(path) as data:
        targets, designs = data["targets"], data["displacements"]
    return float(1 - np.mean(np.abs(physics.mode_areas(designs) - targets) / targets))


def test_two_seeds_give_two_seed_records_and_their_mean(seeded):
    # Rule: one configuration, two seeds: one run holding each seed's numbers and files under
    # seed<s>/, and under the plain names the seeds' mean with its standard error.
    client, info, runs = trial_runs(seeded, "seeded")
    (run,) = runs
    metrics = run.data.metrics
    assert run.info.status == "FINISHED" and metrics["n_seeds"] == 2
    assert set(CONTRACT_METRICS) <= set(metrics)
    for key in ("alpha", "validated_accuracy", "validated_skill", "d2l_accuracy"):
        pair = [metrics[f"seed{s}/{key}"] for s in (0, 1)]
        assert metrics[key] == pytest.approx(np.mean(pair))
        assert metrics[f"{key}_se"] == pytest.approx(np.std(pair, ddof=1) / np.sqrt(2))
    assert metrics["seed0/alpha"] != metrics["seed1/alpha"]  # two seeds, two nets
    for s in (0, 1):  # each seed's curve, at its own steps
        history = client.get_metric_history(run.info.run_id, f"seed{s}/forward_val_accuracy")
        assert sorted(m.step for m in history) == [1, 2]
        # Each seed's validated accuracy is recomputable from its own generated.npz.
        path = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id,
            artifact_path=f"seed{s}/generated.npz",
            tracking_uri=info["tracking_uri"],
        )
        assert _validated(path) == pytest.approx(metrics[f"seed{s}/validated_accuracy"], abs=1e-6)
        # α_hill = 1 + k / Σ ln(x(i)/x(k+1)) over the top k = ⌈0.01·n⌉ of the seed's Δr values.
        with np.load(path) as data:
            dr = np.hypot(data["displacements"][:, 0], data["displacements"][:, 1]).ravel()
        k = math.ceil(0.01 * dr.size)
        top = np.sort(dr)[::-1]
        hill = 1 + k / np.sum(np.log(top[:k] / top[k]))
        assert hill == pytest.approx(metrics[f"seed{s}/alpha_hill"], rel=1e-9)


def test_confirm_runs_fresh_seeds_and_writes_the_interval_beside_the_trial(seeded):
    client, info, (trial,) = trial_runs(seeded, "seeded")
    trial_id = trial.data.tags["scalefree.trial_id"]
    proc = cli(["confirm", "seeded", "--seeds", "2", "--trials", trial_id], seeded)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    client, info, runs = trial_runs(seeded, "seeded")
    (confirmation,) = [r for r in runs if r.data.tags.get("scalefree.confirms") == trial_id]
    assert confirmation.info.status == "FINISHED"
    # In the UI's tree the confirmation sits under the trial it confirms.
    assert confirmation.data.tags["mlflow.parentRunId"] == trial.info.run_id
    assert json.loads(confirmation.data.params["search.seeds"]) == [2, 3]  # after the search's 0, 1
    metrics = confirmation.data.metrics
    original = client.get_run(trial.info.run_id).data.metrics
    assert original["confirmed_alpha"] == pytest.approx(metrics["alpha"])
    assert original["confirmed_alpha_lo"] < metrics["alpha"] < original["confirmed_alpha_hi"]
    assert original["confirmed_n_seeds"] == 2
    # α's interval over seeds stays above 1, and the report remakes it from the seeds: a stale
    # value (an interval made before a change of method) is replaced by the next report.
    assert original["confirmed_alpha_lo"] == pytest.approx(metrics["alpha_lo"]) and (
        original["confirmed_alpha_lo"] > 1
    )
    client.log_metric(trial.info.run_id, "confirmed_alpha_lo", -2.5)
    proc = cli(["report", "seeded"], seeded, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    remade = client.get_run(trial.info.run_id).data.metrics
    assert remade["confirmed_alpha_lo"] == pytest.approx(metrics["alpha_lo"])
    # The parent run counts as the summary line does: the search's trial, then the rounds' runs;
    # the dataset's seconds are the launch's, not the confirmation's (a cached load).
    parent = client.get_run(info["parent_run_id"]).data.metrics
    assert (parent["trials"], parent["round_runs"], parent["round_runs_failed"]) == (1, 1, 0)
    history = client.get_metric_history(info["parent_run_id"], "data_seconds")
    assert len(history) == 1, history
    # The search's record is the search's: Optuna holds the one searched trial only.
    study = optuna.load_study(
        study_name="seeded", storage=f"sqlite:///{seeded}/studies/seeded/optuna.db"
    )
    assert len(study.trials) == 1
    # Bad choices are refused by name before anything is recorded.
    before = (seeded / "studies" / "seeded" / "confirm.json").read_text()
    for args, needle in (
        (["--trials", "nope"], "--trials: must be 'front' or finished trials"),
        (["--seeds", "1"], "--seeds: must be an integer >= 2"),
    ):
        proc = cli(["confirm", "seeded", *args], seeded, timeout=120)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr[-2000:]
    assert (seeded / "studies" / "seeded" / "confirm.json").read_text() == before


@pytest.mark.slow
def test_confirm_resumes_after_kill_9_with_nothing_duplicated(tmp_path):
    ids = ",".join(launched_trial_ids(tmp_path, "conf", 2))
    driver = start(["confirm", "conf", "--seeds", "3", "--trials", ids], tmp_path)
    kill_9_when_running(driver, tmp_path / "mlflow.db", "scalefree.confirms", 2)
    proc = cli(["resume", "conf"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    client, _, runs = trial_runs(tmp_path, "conf")
    confirmations = [r for r in runs if r.data.tags.get("scalefree.confirms")]
    # One run per confirmed configuration, each with its three seeds, every epoch logged once.
    assert sorted(r.data.tags["scalefree.confirms"] for r in confirmations) == sorted(
        ids.split(",")
    )
    assert all(
        r.info.status == "FINISHED" and r.data.metrics["n_seeds"] == 3 for r in confirmations
    )
    for run in confirmations:
        assert json.loads(run.data.params["search.seeds"]) == [1, 2, 3]  # after the search's 0
        for s in (1, 2, 3):
            history = client.get_metric_history(run.info.run_id, f"seed{s}/forward_val_accuracy")
            assert sorted(m.step for m in history) == [1, 2], (s, [m.step for m in history])
    originals = [r for r in runs if not r.data.tags.get("scalefree.confirms")]
    assert len(originals) == 2 and all("confirmed_alpha" in r.data.metrics for r in originals)
