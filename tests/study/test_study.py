"""A real study end to end: local Ray, Tune + Optuna, MLflow on SQLite, report."""

import csv
from pathlib import Path

import numpy as np
import pytest
from studyutil import CONTRACT_METRICS, cli, trial_runs, write_tiny


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("study")
    config = write_tiny(cwd)
    proc = cli(["launch", str(config), "--name", "tiny"], cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return cwd, proc


def test_one_parent_run_and_one_nested_run_per_trial(finished_study):
    # Three trials → three nested runs under the study's parent, each with every contract metric.
    cwd, _ = finished_study
    client, info, runs = trial_runs(cwd, "tiny")
    assert len(runs) == 3 and len({r.data.tags["scalefree.trial_id"] for r in runs}) == 3
    for run in runs:
        assert run.info.status == "FINISHED"
        missing = [m for m in CONTRACT_METRICS if m not in run.data.metrics]
        assert not missing, missing
        assert {"forward.filters", "inverse_net.l2", "search.stages"} <= set(run.data.params)
        assert run.data.tags["ray.node_id"] and run.data.tags["mlflow.source.git.commit"]
    assert client.get_run(info["parent_run_id"]).info.status == "FINISHED"


def test_per_epoch_metrics_share_one_step_across_phases(finished_study):
    # Rule: one step convention: forward epochs are steps 1..2, the inverse net's (2 surrogate +
    # 1 physics) continue at 3..5; no step counter or timestamp is itself a metric.
    cwd, _ = finished_study
    client, _, runs = trial_runs(cwd, "tiny")
    run_id = runs[0].info.run_id
    forward = client.get_metric_history(run_id, "forward_val_accuracy")
    inverse = client.get_metric_history(run_id, "inverse_val_accuracy")
    assert sorted(m.step for m in forward) == [1, 2]
    assert sorted(m.step for m in inverse) == [3, 4, 5]
    for run in runs:
        bad = [k for k in run.data.metrics if k.endswith("_step") or k.startswith("compute_")]
        assert bad == [] or bad == ["compute_seconds"], bad


def test_trial_runs_are_named_and_tagged_by_architecture(finished_study):
    # Rule: the run name and tags say what the trial is; the parent holds the search space, not
    # the preset's architecture that no trial ran.
    cwd, _ = finished_study
    client, info, runs = trial_runs(cwd, "tiny")
    for run in runs:
        tags = run.data.tags
        stages, mode = tags["scalefree.stages"], tags["scalefree.inverse_mode"]
        assert run.info.run_name.startswith(f"p{stages}-") and f"-{mode}" in run.info.run_name
        assert tags["scalefree.trial_id"] in run.info.run_name
        assert tags["scalefree.filters"] and tags["scalefree.host"] and tags["scalefree.git_commit"]
        assert tags["scalefree.device"] == "cpu"  # where it trained: no GPU in these tests
    for run in runs:  # each trial's figures are artifacts of its run
        figures = {a.path: a.file_size for a in client.list_artifacts(run.info.run_id, "figures")}
        expected = {"training_curves", "dr_ccdf", "weight_ccdf", "delta_map", "mode_areas"}
        assert {f"figures/{n}.png" for n in expected} <= set(figures), figures
        assert all(size > 5_000 for size in figures.values())
        assert run.data.tags.get("scalefree.pareto") in ("true", "false")  # set by the report
    parent = client.get_run(info["parent_run_id"]).data
    assert "space.stages" in parent.params and "forward.filters" not in parent.params
    assert "Search space" in parent.tags["mlflow.note.content"]


def test_generated_structures_are_an_artifact_that_reproduces_the_score(finished_study):
    # Anyone can recompute validated_accuracy from generated.npz with the true Hamiltonian.
    import mlflow

    import physics

    cwd, _ = finished_study
    _, info, runs = trial_runs(cwd, "tiny")
    run = runs[0]
    path = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="generated.npz", tracking_uri=info["tracking_uri"]
    )
    with np.load(path) as data:
        targets, disp, seeds = data["targets"], data["displacements"], data["seed_displacements"]
    assert targets.shape == (32, 64) and disp.shape == seeds.shape == (32, 2, 8, 8)
    true = physics.mode_areas(disp)
    accuracy = 1 - np.mean(np.abs(true - targets) / targets)
    assert accuracy == pytest.approx(run.data.metrics["validated_accuracy"], abs=1e-6)
    np.testing.assert_allclose(physics.mode_areas(seeds), targets, atol=1e-12)


def test_report_prints_pareto_table_and_writes_figures(finished_study):
    cwd, _ = finished_study
    proc = cli(["report", "tiny"], cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr == ""  # no library's log line or warning: the report is all there is
    assert "front on max validated_skill, min alpha" in proc.stdout and "valid." in proc.stdout
    assert "oracle" in proc.stdout and "skill" in proc.stdout  # baselines beside accuracies
    # Rule: the report fits a terminal; the rest is in trials.csv, integers as integers.
    assert max(len(line) for line in proc.stdout.splitlines()) <= 120, proc.stdout
    rows = (cwd / "studies" / "tiny" / "report" / "trials.csv").read_text().splitlines()
    header = rows[0].split(",")
    n_tail = [row.split(",")[header.index("n_tail")] for row in rows[1:]]
    assert all(v.isdigit() for v in n_tail if v), n_tail
    # Every searched architecture choice has its column, the output bound included.
    for column in ("stages", "filters", "inverse_mode", "bound", "bonds"):
        values = [row.split(",")[header.index(column)] for row in rows[1:]]
        assert all(values), (column, values)
    for name in ("accuracy_vs_alpha.png", "robustness_vs_alpha.png", "trials.csv"):
        assert (cwd / "studies" / "tiny" / "report" / name).stat().st_size > 0


def test_launching_the_same_name_twice_is_refused(finished_study):
    cwd, _ = finished_study
    proc = cli(["launch", "smoke", "--name", "tiny"], cwd, timeout=60)
    assert proc.returncode == 2 and "use `scalefree resume tiny`" in proc.stderr


def test_without_a_name_a_taken_name_gets_a_suffix(tmp_path):
    # `make study` twice must not fail: the second smoke study becomes smoke-2.
    from study.run.launch import free_name as _free_name

    assert _free_name(tmp_path, "smoke") == "smoke"
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke-2").mkdir()
    assert _free_name(tmp_path, "smoke") == "smoke-3"


def test_ui_serves_the_study_tracking_store(finished_study):
    # `scalefree ui NAME` serves the MLflow UI on the store the study logged to.
    import json
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from studyutil import env

    cwd, _ = finished_study
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ui = subprocess.Popen(
        [sys.executable, "-m", "study.cli", "ui", "tiny", "--port", str(port)],
        cwd=cwd,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/experiments/search"
        request = urllib.request.Request(
            url, data=b'{"max_results": 10}', headers={"Content-Type": "application/json"}
        )
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    experiments = json.load(response)["experiments"]
                break
            except OSError:
                assert time.time() < deadline, "the UI did not come up"
                time.sleep(1)
        (scalefree,) = [e for e in experiments if e["name"] == "scalefree"]
        tags = {t["key"]: t["value"] for t in scalefree.get("tags", [])}
        assert tags.get("mlflow.experimentKind") == "custom_model_development"  # runs view first
        line = ui.stdout.readline()
        assert f"http://127.0.0.1:{port}/#/experiments/{scalefree['experiment_id']}/runs" in line
        # Rule: SIGTERM to `scalefree ui` alone stops every process it started and frees the port.
        group = _descendants(ui.pid)
        assert group, "the UI server runs as a child process"
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=30)
        time.sleep(0.5)
        assert [p for p in group if _alive(p)] == []
        with socket.socket() as s:
            # Free again: no listener. SO_REUSEADDR as servers set it, since the test's own closed
            # connections may leave the port in TIME_WAIT for a minute (seen once).
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    finally:
        if ui.poll() is None:
            ui.kill()


def _descendants(pid: int) -> list[int]:
    import subprocess

    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = (int(v) for v in line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = open(f"/proc/{pid}/stat").read().split()[2] if os.path.exists(f"/proc/{pid}") else "X"
    return status != "Z"


def test_optuna_study_names_its_objectives_and_links_every_trial_to_its_run(finished_study):
    # Rule: optuna-dashboard shows named objectives, and each Optuna trial carries the MLflow run
    # id and name of its trial.
    import optuna

    cwd, _ = finished_study
    _, _, runs = trial_runs(cwd, "tiny")
    storage = f"sqlite:///{cwd / 'studies' / 'tiny' / 'optuna.db'}"
    study = optuna.load_study(study_name="tiny", storage=storage)
    assert study.metric_names == ["validated_skill", "alpha"]
    by_id = {r.info.run_id: r.info.run_name for r in runs}
    linked = {
        t.user_attrs.get("mlflow_run_id"): t.user_attrs.get("mlflow_run_name") for t in study.trials
    }
    assert linked == by_id


def test_the_parent_run_holds_the_study_s_answers(finished_study):
    # Rule: what the report says is on the parent run, where the UI shows it: the report as a
    # person reads it, a trials table mlflow.load_table reads back (one row a trial), every level
    # difference as a metric with its interval, and a description whose Markdown survives.
    import mlflow

    cwd, _ = finished_study
    assert cli(["report", "tiny"], cwd, timeout=120).returncode == 0
    client, info, runs = trial_runs(cwd, "tiny")
    parent = info["parent_run_id"]
    files = {a.path for a in client.list_artifacts(parent, "report")}
    assert {"report/report.md", "report/trials.json", "report/effects.csv"} <= files
    text = Path(client.download_artifacts(parent, "report/report.md")).read_text()
    assert "front on max validated_skill, min alpha" in text
    mlflow.set_tracking_uri(info["tracking_uri"])  # load_table searches through the global URI
    table = client.load_table(info["experiment_id"], "report/trials.json", run_ids=[parent])
    assert sorted(table["trial"]) == sorted(r.data.tags["scalefree.trial_id"] for r in runs)
    assert {"alpha", "validated_skill", "alpha_hill", "pareto"} <= set(table.columns)
    metrics = client.get_run(parent).data.metrics
    rows = list(csv.DictReader(open(cwd / "studies" / "tiny" / "report" / "effects.csv")))
    differences = [r for r in rows if r["param"] != "icc" and r["difference"]]
    logged = [k for k in metrics if k.startswith("effect/") and not k.endswith(("_lo", "_hi"))]
    assert len(logged) == len(differences), (logged, differences)
    note = client.get_run(parent).data.tags["mlflow.note.content"]
    assert "<" not in note.split("```")[0]  # no bare HTML-like placeholder outside code
    assert "`p{pooling stages}-{filters}-fc{width}-{inverse mode}[-bonds]-{Tune id}`" in note


def test_printed_links_open_the_model_training_workflow_on_the_study_s_columns(finished_study):
    import json

    from study.files.links import runs_view, ui_links

    cwd, _ = finished_study
    _, info, _ = trial_runs(cwd, "tiny")
    links = ui_links("http://127.0.0.1:5000", info["experiment_id"], "tiny", info["parent_run_id"])
    for link in links.values():
        assert link.startswith("http://127.0.0.1:5000/#/experiments/")
        assert "workflowType=machine_learning" in link
    proc = cli(["status", "tiny"], cwd, timeout=60)
    assert links["runs"] in proc.stdout, proc.stdout
    # the view the runs link opens is stored on the experiment as MLflow's UI shares one
    client, _, _ = trial_runs(cwd, "tiny")
    tags = client.get_experiment(info["experiment_id"]).tags
    view = json.loads(tags["mlflow.sharedViewState.scalefree-tiny"])
    assert view == runs_view("tiny", ["validated_skill", "alpha"])
    assert "metrics.`alpha_lo`" in view["selectedColumns"]
    assert tags["mlflow.experimentKind"] == "custom_model_development"
