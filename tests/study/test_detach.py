"""Studies that outlive their terminal (Ray Jobs on a local head with its job server), and a
search started from an earlier study's trials."""

import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from studyutil import cli, env, run_states, trial_runs, write_tiny

RAY = str(Path(sys.executable).parent / "ray")


AGENT_PORTS = (
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "metrics-export-port",
    "runtime-env-agent-port",
    "ray-client-server-port",
)


PROBE = """
import sys
from ray.job_submission import JobSubmissionClient
JobSubmissionClient(sys.argv[1]).submit_job(entrypoint="true")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def head(tmp_path):
    """A one-node cluster with Ray's job server (dashboard), token auth as a real cluster has."""
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    temp = tempfile.mkdtemp(prefix="sf-job-", dir="/tmp")  # Unix sockets: a short path
    port, dashboard = random.randint(20000, 30000), random.randint(30001, 40000)
    start = [RAY, "start", "--head", f"--port={port}", f"--dashboard-port={dashboard}"]
    start += ["--num-cpus=2", f"--temp-dir={temp}", "--disable-usage-stats", "--block"]
    # Ports of its own: the session's Ray instance (tests/conftest.py) holds the defaults, and a
    # job server whose agent cannot bind 52365 takes no job ("No available agent").
    for option in AGENT_PORTS:
        start.append(f"--{option}={_free_port()}")
    node = subprocess.Popen(
        start,
        env=env(**auth),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            # Ready when it takes a job: the server answers before its agent has registered.
            ready = subprocess.run(
                [sys.executable, "-c", PROBE, f"http://127.0.0.1:{dashboard}"],
                capture_output=True,
                env=env(**auth),
                text=True,
            )
            if ready.returncode == 0:
                break
            assert node.poll() is None, "ray start --head exited"
            time.sleep(2)
        else:
            pytest.fail(f"the head's job server took no job within 180 s: {ready.stderr[-500:]}")
        yield {"address": f"127.0.0.1:{port}", "server": f"http://127.0.0.1:{dashboard}", **auth}
    finally:
        os.killpg(node.pid, signal.SIGTERM)
        try:
            node.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def _auth(head) -> dict:
    return {k: head[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}


def _status(cwd, name, head) -> str:
    return cli(["status", name], cwd, timeout=120, **_auth(head)).stdout


def _wait(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if value := predicate():
            return value
        time.sleep(2)
    pytest.fail(f"{what() if callable(what) else what} within {timeout} s")


@pytest.mark.slow
def test_a_detached_study_outlives_its_terminal_and_stops_like_ctrl_c(tmp_path, head):
    config = write_tiny(tmp_path, "search: {num_samples: 2, max_concurrent: 2}\n")
    auth = _auth(head)
    # Bad input is refused on the client: one line, exit 2, nothing submitted.
    bad = cli(["launch", str(config), "--detach", "--address", head["server"],
               "--set", "forward.stages=9"], tmp_path, timeout=120, **auth)  # fmt: skip
    assert (
        bad.returncode == 2
        and "forward.stages" in bad.stderr
        and not (tmp_path / "studies" / ".jobs").exists()
    )
    # The terminal that launched it (and follows its log) is killed whole; the study goes on.
    script = (
        f"{sys.executable} -m study.cli launch {config} --name away --detach "
        f"--address {head['server']} && exec {sys.executable} -m study.cli logs away -f"
    )
    said = tmp_path / "terminal.log"
    terminal = subprocess.Popen(
        ["bash", "-c", script], cwd=tmp_path, env=env(**auth), start_new_session=True,
        stdout=said.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    _wait(
        lambda: "RUNNING" in _status(tmp_path, "away", head),
        300,
        lambda: (
            f"the job did not run ({_status(tmp_path, 'away', head)!r}; the terminal said "
            f"{said.read_text()[-2000:]!r})"
        ),
    )
    os.killpg(terminal.pid, signal.SIGKILL)
    terminal.wait()
    done = _wait(
        lambda: (s := _status(tmp_path, "away", head)).startswith("away: finished") and s,
        900,
        "the detached study did not finish",
    )
    assert "SUCCEEDED" in done
    _, _, runs = trial_runs(tmp_path, "away")
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    logs = cli(["logs", "away"], tmp_path, timeout=120, **auth)
    assert "[study] away" in logs.stdout and "finished in" in logs.stdout  # the foreground lines
    followed = cli(["logs", "away", "-f"], tmp_path, timeout=120, **auth)  # ends with the job
    assert followed.returncode == 0 and followed.stdout == logs.stdout, followed.stdout[-500:]
    assert followed.stderr == "", followed.stderr  # Ray's SDK says nothing ("WebSocket closed…")

    # A second one is stopped mid-training: Ctrl-C's semantics, then resume finishes it.
    launched = cli(["launch", str(config), "--name", "halt", "--detach", "--address",
                    head["server"]], tmp_path, timeout=120, **auth)  # fmt: skip
    assert launched.returncode == 0, launched.stderr
    record = json.loads((tmp_path / "studies" / ".jobs" / "halt.json").read_text())
    assert record["job_id"] in launched.stdout
    _wait(lambda: "RUNNING" in run_states(tmp_path / "mlflow.db", "halt"), 300, "no trial trained")
    stopped = cli(["stop", "halt"], tmp_path, timeout=600, **auth)
    assert stopped.returncode == 0 and "resume halt" in stopped.stdout, stopped.stdout
    assert _status(tmp_path, "halt", head).startswith("halt: interrupted")
    resumed = cli(["resume", "halt"], tmp_path, timeout=900)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    _, _, runs = trial_runs(tmp_path, "halt")
    trials = [r.data.tags["scalefree.trial_id"] for r in runs]
    assert len(trials) == len(set(trials)) == 2 and all(r.info.status == "FINISHED" for r in runs)


@pytest.mark.slow
def test_a_search_started_from_an_earlier_study_begins_with_tpe_on_its_trials(tmp_path):
    # Rule: --from puts the earlier study's finished trials into the new Optuna study, so TPE
    # (startup 2) suggests the very first trial from them: the same suggestion a TPE sampler
    # with the same seed makes from those trials, and not the random start's.
    import optuna

    from study.files.config import load_config
    from study.run.search import SearchSpace, distributions

    search = "search: {num_samples: 3, max_concurrent: 1, startup_trials: 2}\n"
    config = write_tiny(tmp_path, search)
    assert cli(["launch", str(config), "--name", "first"], tmp_path).returncode == 0
    config_b = tmp_path / "b.yaml"
    config_b.write_text(config.read_text().replace("num_samples: 3", "num_samples: 1"))
    proc = cli(["launch", str(config_b), "--name", "second", "--from", "first"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "starts from first: " in proc.stdout

    storage = lambda n: f"sqlite:///{tmp_path / 'studies' / n / 'optuna.db'}"  # noqa: E731
    new = optuna.load_study(study_name="second", storage=storage("second"))
    imported = [t for t in new.trials if "imported_from" in t.user_attrs]
    own = [t for t in new.trials if "imported_from" not in t.user_attrs]
    assert len(imported) >= 2 and len(own) == 1
    cfg = load_config(str(tmp_path / "studies" / "second" / "config.yaml"))

    def first_ask(with_history: bool) -> dict:
        sampler = optuna.samplers.TPESampler(seed=cfg.search.sampler_seed, n_startup_trials=2)
        study = optuna.create_study(directions=new.directions, sampler=sampler)
        if with_history:
            study.add_trials(imported)
        trial = study.ask()
        SearchSpace(cfg.space)(trial)
        return trial.params

    assert own[0].params == first_ask(True)
    assert own[0].params != first_ask(False)  # not what the random start would have drawn
    assert set(own[0].params) == set(distributions(cfg.space, own[0].params))
    _, info, _ = trial_runs(tmp_path, "second")
    client = __import__("mlflow").MlflowClient(info["tracking_uri"])
    assert client.get_run(info["parent_run_id"]).data.tags["scalefree.from"] == "first"
    bad = cli(["launch", str(config_b), "--name", "third", "--from", "nope"], tmp_path)
    assert bad.returncode == 2 and "--from: must be a study" in bad.stderr
    assert not (tmp_path / "studies" / "third").exists()


def _main(argv, capsys):
    from study import cli as study_cli

    code = study_cli.main(argv)
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_detach_without_a_cluster_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    code, lines = _main(["launch", str(write_tiny(tmp_path)), "--detach"], capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("scalefree: error: --detach:")
    assert not (tmp_path / "studies" / ".jobs").exists()


def test_a_job_server_that_refuses_is_one_line_and_nothing_recorded(tmp_path, monkeypatch, capsys):
    # Rule: a job server that answers but takes no job (its agent is down: what Ray says when
    # another Ray instance on the head holds the agent's port) ends the command with one line
    # that carries the server's reason, exit 1, and no record of a job that does not exist.
    import ray.job_submission

    class Refusing:
        def __init__(self, address, *args, **kwargs):
            self.address = address

        def submit_job(self, **kwargs):
            raise RuntimeError(
                "Request failed with status code 500: No available agent to submit job, please "
                "try again later.."
            )

    monkeypatch.setattr(ray.job_submission, "JobSubmissionClient", Refusing)
    monkeypatch.chdir(tmp_path)
    argv = ["launch", str(write_tiny(tmp_path)), "--detach", "--address", "http://127.0.0.1:9"]
    code, lines = _main(argv, capsys)
    assert code == 1 and len(lines) == 1, lines
    assert "No available agent" in lines[0] and "http://127.0.0.1:9" in lines[0], lines
    assert not list((tmp_path / "studies").glob(".jobs/*.json"))
