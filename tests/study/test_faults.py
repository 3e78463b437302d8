"""Faults: a diverging trial is recorded as failed with its reason, and the study goes on."""

import optuna
import pytest
from studyutil import CONTRACT_METRICS, cli, trial_runs, write_tiny

pytestmark = pytest.mark.slow

# With this sampler seed the first trial draws lr ≈ 1.7e-3 and the second lr ≈ 2.0e34, which
# overflows the weights on the first step: a NaN loss.
DIVERGING = (
    "space: {stages: [1, 2], filters: [4, 8], fc: [32], batch_size: [32], lr: [0.001, 1.0e36]}\n"
    "search: {num_samples: 2, max_concurrent: 1, sampler_seed: 4}\n"
)


def test_nan_trial_fails_with_reason_and_study_finishes(tmp_path):
    proc = cli(["launch", str(write_tiny(tmp_path, DIVERGING)), "--name", "nan"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 trials, 1 failed" in proc.stdout
    _, _, runs = trial_runs(tmp_path, "nan")
    by_status = {r.info.status: r for r in runs}
    assert len(runs) == 2 and set(by_status) == {"FINISHED", "FAILED"}
    failed = by_status["FAILED"]
    assert "diverged" in failed.data.tags["failure_reason"]
    assert float(failed.data.params["search.lr"]) > 1e30
    assert set(CONTRACT_METRICS) <= set(by_status["FINISHED"].data.metrics)
    study = optuna.load_study(
        study_name="nan", storage=f"sqlite:///{tmp_path}/studies/nan/optuna.db"
    )
    assert sorted(t.state.name for t in study.trials) == ["COMPLETE", "FAIL"]


ASHA = "search: {num_samples: 4, max_concurrent: 2, scheduler: asha, grace_period: 1}\n"


def test_asha_stopped_trials_are_marked_and_left_out_of_the_pareto_front(tmp_path):
    # Optuna records ASHA-stopped trials as COMPLETE with early values; the report must not.
    # The smoke preset trains hybrid inverse nets: ASHA's max_t must count the physics epoch, or
    # every trial is cut off before its final report (no FINISHED run at all).
    proc = cli(["launch", str(write_tiny(tmp_path, ASHA)), "--name", "asha"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _, _, runs = trial_runs(tmp_path, "asha")
    assert len(runs) == 4 and {r.data.params["inverse.mode"] for r in runs} == {"hybrid"}
    finished = [r for r in runs if r.info.status == "FINISHED"]
    stopped = [r for r in runs if r.info.status == "KILLED"]
    assert len(finished) + len(stopped) == 4 and finished
    assert all(set(CONTRACT_METRICS) <= set(r.data.metrics) for r in finished)
    assert all(r.data.tags.get("stopped_early") == "true" for r in stopped)
    table = (tmp_path / "studies" / "asha" / "report" / "trials.csv").read_text().splitlines()
    on_front = [line.split(",")[0] for line in table[1:] if line.endswith("True")]
    assert set(on_front) <= {r.data.tags["scalefree.trial_id"] for r in finished}


ALL_DIVERGE = (
    "space: {stages: [1, 2], filters: [4, 8], fc: [32], batch_size: [32], lr: [1.0e35, 1.0e36]}\n"
    "search: {num_samples: 2, max_concurrent: 2}\n"
)


def test_a_study_whose_every_trial_fails_exits_non_zero_with_one_line(tmp_path):
    proc = cli(["launch", str(write_tiny(tmp_path, ALL_DIVERGE)), "--name", "dead"], tmp_path)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("scalefree")]
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(lines) == 1 and "must finish at least one trial, but all 2 failed" in lines[0]
    client, info, runs = trial_runs(tmp_path, "dead")
    assert client.get_run(info["parent_run_id"]).info.status == "FAILED"
    assert len(runs) == 2 and all(r.info.status == "FAILED" for r in runs)
