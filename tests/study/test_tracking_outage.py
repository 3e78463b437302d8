"""A tracking server that goes away mid-study: a short outage is ridden out (every trial logged
once), a long one stops the study in one line with nothing lost, and `resume` completes it."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import pytest
from studyutil import cli, env, start, write_tiny

pytestmark = pytest.mark.slow


class Server:
    """`mlflow server` on loopback that can go away and come back on the same port and store."""

    def __init__(self, folder) -> None:
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.uri = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> None:
        args = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--workers", "1"]
        args += ["--backend-store-uri", f"sqlite:///{self.folder / 'server.db'}"]
        args += ["--artifacts-destination", str(self.folder / "server-artifacts")]
        self.proc = subprocess.Popen(
            args,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        pytest.fail("mlflow server did not come up")

    def stop(self) -> None:
        import os

        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    s.stop()


def _trial_runs(uri: str, study: str) -> list:
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("scalefree")
    if experiment is None:
        return []
    runs = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.`scalefree.study` = '{study}'"
    )
    return [r for r in runs if "scalefree.trial_id" in r.data.tags]


def _wait_training(server: Server, study: str, driver) -> None:
    deadline = time.time() + 300
    while time.time() < deadline:
        assert driver.poll() is None, "the study ended before the server went away"
        if any(r.info.status == "RUNNING" for r in _trial_runs(server.uri, study)):
            return
        time.sleep(0.5)
    pytest.fail("no trial trained")


def _every_trial_once(server: Server, study: str, samples: int) -> None:
    client = mlflow.MlflowClient(server.uri)
    runs = _trial_runs(server.uri, study)
    trials = [r.data.tags["scalefree.trial_id"] for r in runs]
    assert len(trials) == len(set(trials)) == samples, trials
    assert all(r.info.status == "FINISHED" for r in runs), [r.info.status for r in runs]
    for run in runs:  # each epoch logged once, outage or not
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "forward_val_accuracy")]
        assert sorted(steps) == [1, 2], steps


def test_a_short_outage_is_ridden_out(tmp_path, server):
    work = tmp_path / "work"
    work.mkdir()
    config = write_tiny(work, "search: {num_samples: 2, max_concurrent: 2}\n")
    driver = start(
        ["launch", str(config), "--name", "short", "--set", f"tracking.uri={server.uri}"], work
    )
    _wait_training(server, "short", driver)
    server.stop()
    time.sleep(25)  # well inside the driver's 246 s of retries
    server.start()
    assert driver.wait(timeout=600) == 0
    _every_trial_once(server, "short", 2)


def test_a_long_outage_stops_in_one_line_and_resume_completes(tmp_path, server):
    work = tmp_path / "work"
    work.mkdir()
    config = write_tiny(work, "search: {num_samples: 2, max_concurrent: 2}\n")
    log = work / "stderr"
    quick = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
    args = ["launch", str(config), "--name", "long", "--set", f"tracking.uri={server.uri}"]
    driver = start(args, work, stderr=log.open("w"), **quick)
    _wait_training(server, "long", driver)
    server.stop()
    assert driver.wait(timeout=600) == 1
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("scalefree: error: tracking.uri: must stay"), (
        lines
    )
    assert "scalefree resume long" in lines[0]
    server.start()
    proc = cli(["resume", "long"], work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _every_trial_once(server, "long", 2)
