"""Tracking to a real `mlflow server` on loopback instead of the default SQLite file."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import pytest
from studyutil import CONTRACT_METRICS, cli, env, write_tiny

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
        ],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(1)
    else:
        server.kill()
        pytest.fail("mlflow server did not come up")
    yield uri, tmp_path
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def test_study_logs_runs_metrics_and_artifacts_to_the_server(mlflow_server):
    uri, tmp_path = mlflow_server
    work = tmp_path / "work"
    work.mkdir()
    config = write_tiny(work, "search: {num_samples: 2, max_concurrent: 2}\n")
    proc = cli(["launch", str(config), "--name", "served", "--set", f"tracking.uri={uri}"], work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not (work / "mlflow.db").exists()  # nothing went to the default store
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("scalefree")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    for run in children:
        assert run.info.status == "FINISHED" and set(CONTRACT_METRICS) <= set(run.data.metrics)
        names = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert "generated.npz" in names
    # Artifacts went through the server to its own artifact store.
    assert any((tmp_path / "server-artifacts").rglob("generated.npz"))
