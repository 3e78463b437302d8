"""Crash and resume: kill -9 of the driver mid-study, then `scalefree resume`."""

import optuna
import pytest
from studyutil import CONTRACT_METRICS, cli, kill_9_while_training, start, trial_runs, write_tiny

pytestmark = pytest.mark.slow

LONGER = "forward_train: {epochs: 6}\ninverse_train: {epochs: 6}\nsearch: {num_samples: 4, max_concurrent: 2}\n"


def test_kill_9_then_resume_finishes_every_trial_once(tmp_path):
    config = write_tiny(tmp_path, LONGER)
    driver = start(["launch", str(config), "--name", "crash"], tmp_path)
    kill_9_while_training(driver, tmp_path / "mlflow.db", "crash")
    client, info, runs = trial_runs(tmp_path, "crash")
    before = {r.info.run_id: r for r in runs if r.info.status == "FINISHED"}
    assert 1 <= len(before) < 4

    proc = cli(["resume", "crash"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    client, info, runs = trial_runs(tmp_path, "crash")
    # Every trial finished, each with exactly one MLflow run carrying every contract metric.
    trial_ids = [r.data.tags["scalefree.trial_id"] for r in runs]
    assert len(runs) == 4 and len(set(trial_ids)) == 4
    assert all(r.info.status == "FINISHED" for r in runs), [
        (r.info.status, r.data.tags) for r in runs
    ]
    assert all(set(CONTRACT_METRICS) <= set(r.data.metrics) for r in runs)
    # Interrupted trials continued from their last epoch checkpoint: no epoch was logged twice.
    for run in runs:
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "forward_val_accuracy")]
        assert sorted(steps) == list(range(1, 7)), steps
    # Trials that had finished before the crash were not run again.
    for run_id, old in before.items():
        new = client.get_run(run_id)
        assert new.info.end_time == old.info.end_time and new.data.metrics == old.data.metrics
    # The Optuna study agrees with Tune: one COMPLETE trial per finished trial, with its params and
    # objective values; nothing left RUNNING (a trial lost with the driver is marked FAIL).
    study = optuna.load_study(
        study_name="crash", storage=f"sqlite:///{tmp_path}/studies/crash/optuna.db"
    )
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 4 and all(t.state.name in ("COMPLETE", "FAIL") for t in study.trials)
    for run in runs:
        values = [run.data.metrics[key] for key in ("validated_skill", "alpha")]  # the objectives
        matches = [t for t in complete if t.values == pytest.approx(values, rel=1e-12)]
        assert len(matches) == 1
        assert matches[0].params["stages"] == int(run.data.params["search.stages"])
