"""A real two-node Ray cluster on loopback (`ray start --head` + `ray start --address`), one
declared GPU each: the smoke study attaches with --address and its trials run on both nodes."""

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
from studyutil import CONTRACT_METRICS, cli, env, trial_runs, write_tiny

pytestmark = pytest.mark.slow

RAY = str(Path(sys.executable).parent / "ray")
SPREAD = (
    "resources: {cpus_per_trial: 1, gpus_per_trial: 1}\n"
    "search: {num_samples: 4, max_concurrent: 2}\n"
    # Trials long enough that two always overlap (a short one could free its actor for reuse).
    "forward_train: {epochs: 8}\ninverse_train: {epochs: 8}\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_nodes(address: str, count: int, environ: dict, timeout: float = 120) -> None:
    probe = (
        "import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); "
        "print(len([n for n in ray.nodes() if n['Alive']]))"
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            out = subprocess.run(
                [sys.executable, "-c", probe, address],
                env=environ,
                capture_output=True,
                text=True,
                timeout=45,
            )
        except subprocess.TimeoutExpired:
            continue
        if out.returncode == 0 and out.stdout.strip().endswith(str(count)):
            return
        time.sleep(2)
    pytest.fail(f"cluster at {address} did not reach {count} nodes")


@pytest.fixture
def two_node_cluster():
    # Same auth mode and token on every node and on the driver (Ray 2.60 token authentication).
    environ = env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
    port = _free_port()
    # Ray's session directory holds Unix sockets: keep its path short (pytest's tmp_path is not).
    temp_dir = tempfile.mkdtemp(prefix="sf-ray-", dir="/tmp")
    common = [
        "--block",
        "--node-ip-address=127.0.0.1",
        "--num-cpus=2",
        "--num-gpus=1",
        "--disable-usage-stats",
    ]
    head = subprocess.Popen(
        [
            RAY,
            "start",
            "--head",
            f"--port={port}",
            "--include-dashboard=false",
            f"--temp-dir={temp_dir}",
            *common,
        ],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    _wait_for_nodes(address, 1, environ)
    worker = subprocess.Popen(
        [RAY, "start", f"--address={address}", *common],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_nodes(address, 2, environ)
        yield address, environ
    finally:
        for node in (worker, head):  # --block: SIGTERM stops the node's own processes only
            node.send_signal(signal.SIGTERM)
        for node in (worker, head):
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                node.kill()
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_smoke_study_runs_trials_on_both_nodes(two_node_cluster, tmp_path):
    address, environ = two_node_cluster
    config = write_tiny(tmp_path, SPREAD)
    proc = cli(
        ["launch", str(config), "--name", "cluster", "--address", address],
        tmp_path,
        RAY_AUTH_MODE=environ["RAY_AUTH_MODE"],
        RAY_AUTH_TOKEN=environ["RAY_AUTH_TOKEN"],
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _, _, runs = trial_runs(tmp_path, "cluster")
    assert len(runs) == 4 and all(r.info.status == "FINISHED" for r in runs)
    assert all(set(CONTRACT_METRICS) <= set(r.data.metrics) for r in runs)
    # A whole declared GPU per trial and one GPU per node: two trials at once need both nodes.
    assert len({r.data.tags["ray.node_id"] for r in runs}) == 2
