"""A study on two hosts: the Ray head in this machine's namespaces, a Ray worker in its own network
namespace (its own IP on a veth pair), mount namespace (the driver's working directory hidden
under an empty tmpfs, as on another machine's disk) and host name. The project is installed at the
same path on both, as `ray up ray_cluster.yaml` does.

With the study folder shared into the worker (a bind mount, as NFS would) every trial finishes on
either host and the driver's MLflow holds it all, also across a kill -9 and `resume`; without it,
the launch is refused before anything is created.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from studyutil import (
    CONTRACT_METRICS,
    cli,
    env,
    kill_9_while_training,
    start,
    trial_runs,
    write_tiny,
)

pytestmark = pytest.mark.slow

RAY = str(Path(sys.executable).parent / "ray")
# A whole declared GPU per trial and one GPU per host: two trials at once need both hosts.
SPREAD = (
    "resources: {cpus_per_trial: 1, gpus_per_trial: 1}\n"
    "search: {num_samples: 4, max_concurrent: 2}\n"
    "forward_train: {epochs: 6}\ninverse_train: {epochs: 6}\n"
)
NODE = ["--block", "--num-cpus=2", "--num-gpus=1", "--disable-usage-stats"]


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, text=True)


def _netns_works() -> bool:
    probe = f"sf-probe-{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode == 0
    if made:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return made and shutil.which("unshare") is not None


def _alive_nodes(address: str, environ: dict) -> int:
    probe = (
        "import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); "
        "print(len([n for n in ray.nodes() if n['Alive']]))"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", probe, address],
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        return 0
    return int(out.stdout.split()[-1]) if out.returncode == 0 and out.stdout.split() else 0


class TwoHosts:
    """The head here, the worker "host" in namespaces of its own; ``share`` bind-mounts the
    driver's ``studies/`` into the worker at the same path."""

    def __init__(self, cwd: Path, *, share: bool, head_cpus: int = 2) -> None:
        self.cwd, self.share, self.head_cpus = cwd, share, head_cpus
        self.tag = secrets.token_hex(3)
        subnet = random.randint(1, 250)
        self.head_ip, self.worker_ip = f"10.231.{subnet}.1", f"10.231.{subnet}.2"
        self.netns, self.veth = f"sf-w-{self.tag}", f"sfh{self.tag}"
        self.environ = env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
        # Ray's session folder holds Unix sockets: keep its path short (tmp_path is not).
        self.temp_dir = tempfile.mkdtemp(prefix="sf-ray-", dir="/tmp")
        self.address = ""
        self.nodes: list[subprocess.Popen] = []

    def start(self) -> None:
        ns, veth, peer = self.netns, self.veth, f"sfw{self.tag}"
        _run("ip", "netns", "add", ns)
        _run("ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
        _run("ip", "link", "set", peer, "netns", ns)
        _run("ip", "addr", "add", f"{self.head_ip}/24", "dev", veth)
        _run("ip", "link", "set", veth, "up")
        _run("ip", "netns", "exec", ns, "ip", "addr", "add", f"{self.worker_ip}/24", "dev", peer)
        _run("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
        _run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        port = random.randint(20000, 40000)
        self.address = f"{self.head_ip}:{port}"
        self.nodes.append(
            self._popen(
                [RAY, "start", "--head", f"--port={port}", f"--node-ip-address={self.head_ip}"]
                + ["--include-dashboard=false", f"--temp-dir={self.temp_dir}", *NODE]
                + [f"--num-cpus={self.head_cpus}"]
            )
        )
        self._wait_for(1)
        self.start_worker()

    def start_worker(self) -> None:
        """The worker node, in its namespace (again, after :meth:`kill_worker`)."""
        self.nodes.append(
            self._popen(
                ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--uts"]
                + ["--propagation", "private", "bash", "-c", self._worker_script()]
            )
        )
        self._wait_for(2)

    def kill_worker(self) -> None:
        """Every process of the worker node, at once (a machine lost)."""
        worker = self.nodes.pop()
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        pids = subprocess.run(["ip", "netns", "pids", self.netns], capture_output=True, text=True)
        for pid in pids.stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)

    def _worker_script(self) -> str:
        studies, hold = self.cwd / "studies", Path(self.temp_dir + "-hold")
        lines = ["set -e", "hostname sf-worker"]
        if self.share:
            hold.mkdir(exist_ok=True)
            lines.append(f"mount --bind {studies} {hold}")
        # Another machine's disk: the driver's working directory and Ray session are not there.
        lines += [f"mount -t tmpfs tmpfs {self.cwd}", f"mount -t tmpfs tmpfs {self.temp_dir}"]
        if self.share:
            lines += [f"mkdir {studies}", f"mount --move {hold} {studies}"]
        start = [RAY, "start", f"--address={self.address}", f"--node-ip-address={self.worker_ip}"]
        lines.append("exec " + " ".join(start + NODE))
        return "\n".join(lines)

    def _popen(self, args: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            args,
            env=self.environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _wait_for(self, count: int, timeout: float = 180) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if _alive_nodes(self.address, self.environ) == count:
                return
            assert all(node.poll() is None for node in self.nodes), "a Ray node exited"
            time.sleep(2)
        pytest.fail(f"the cluster at {self.address} did not reach {count} nodes")

    def stop(self) -> None:
        for node in reversed(self.nodes):  # --block: SIGTERM stops the node's own processes
            os.killpg(node.pid, signal.SIGTERM)
        for node in self.nodes:
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.veth], capture_output=True)
        for path in (self.temp_dir, self.temp_dir + "-hold"):
            shutil.rmtree(path, ignore_errors=True)

    def cli(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        auth = {k: self.environ[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
        return cli([*args, "--address", self.address], self.cwd, **auth, **kwargs)


def _remove_leftovers() -> None:
    """Namespaces of an earlier run of these tests that was killed before its clean-up (nothing
    runs in them any more), and their host ends: gone, so no leftover address can collide."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for ns in (line.split()[0] for line in listed.splitlines() if line.startswith("sf-w-")):
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        if pids.returncode == 0 and not pids.stdout.strip():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["ip", "link", "del", f"sfh{ns[len('sf-w-') :]}"], capture_output=True)


def _hosts(tmp_path: Path, *, share: bool, head_cpus: int = 2):
    if os.geteuid() != 0 or not _netns_works():
        pytest.skip("needs root with ip netns and unshare (CI has both)")
    _remove_leftovers()
    (tmp_path / "studies").mkdir()
    hosts = TwoHosts(tmp_path, share=share, head_cpus=head_cpus)
    try:
        hosts.start()
        yield hosts
    finally:
        hosts.stop()


@pytest.fixture
def shared_hosts(tmp_path):
    yield from _hosts(tmp_path, share=True)


@pytest.fixture
def private_hosts(tmp_path):
    yield from _hosts(tmp_path, share=False)


def test_study_on_two_hosts_finishes_every_trial_and_resumes_after_kill_9(shared_hosts):
    hosts, cwd = shared_hosts, shared_hosts.cwd
    config = write_tiny(cwd, SPREAD)
    auth = {k: hosts.environ[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    args = ["launch", str(config), "--name", "two", "--address", hosts.address]
    driver = start(args, cwd, **auth)
    kill_9_while_training(driver, cwd / "mlflow.db", "two", timeout=400)
    client, info, runs = trial_runs(cwd, "two")
    before = {r.info.run_id: r for r in runs if r.info.status == "FINISHED"}
    assert 1 <= len(before) < 4

    proc = hosts.cli(["resume", "two"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    client, info, runs = trial_runs(cwd, "two")
    # Every trial finished once, with its metrics and files, in the driver's store.
    assert len(runs) == 4 and len({r.data.tags["scalefree.trial_id"] for r in runs}) == 4
    assert all(r.info.status == "FINISHED" for r in runs), [
        (r.info.status, r.data.tags) for r in runs
    ]
    assert all(set(CONTRACT_METRICS) <= set(r.data.metrics) for r in runs)
    for run in runs:
        files = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"generated.npz", "forward.pt", "inverse.pt", "figures"} <= files, files
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "forward_val_accuracy")]
        assert sorted(steps) == list(range(1, 7)), steps  # each epoch logged once
    # Trials ran on both hosts; the worker's are tagged with its address and name.
    placed = {(r.data.tags["ray.node_ip"], r.data.tags["scalefree.host"]) for r in runs}
    assert {ip for ip, _ in placed} == {hosts.head_ip, hosts.worker_ip}, placed
    assert (hosts.worker_ip, "sf-worker") in placed
    # Finished trials were not run again; Optuna agrees with MLflow.
    for run_id, old in before.items():
        new = client.get_run(run_id)
        assert new.info.end_time == old.info.end_time and new.data.metrics == old.data.metrics
    study = optuna.load_study(study_name="two", storage=f"sqlite:///{cwd}/studies/two/optuna.db")
    assert sum(t.state.name == "COMPLETE" for t in study.trials) == 4
    assert all(t.state.name in ("COMPLETE", "FAIL") for t in study.trials)
    # The worker never had a tracking store of its own: only the driver's exists.
    assert not list((cwd / "studies").rglob("mlflow.db"))


def test_without_a_shared_study_folder_the_launch_is_refused_and_creates_nothing(private_hosts):
    hosts, cwd = private_hosts, private_hosts.cwd
    config = write_tiny(cwd, SPREAD)
    before = sorted(p.name for p in cwd.iterdir())
    proc = hosts.cli(["launch", str(config), "--name", "alone"], timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("scalefree")]
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("scalefree: error: tracking.studies_dir: must be a folder every")
    assert f"node {hosts.worker_ip} cannot see it" in lines[0] and str(cwd / "studies") in lines[0]
    # Nothing created: no study, no tracking store, no probe marker left behind.
    assert sorted(p.name for p in cwd.iterdir()) == before
    assert list((cwd / "studies").iterdir()) == []


def test_generate_and_reproduce_need_no_shared_folder(private_hosts):
    # Their Ray tasks return shards and trained runs through the object store; the driver writes.
    hosts, cwd = private_hosts, private_hosts.cwd
    proc = hosts.cli(["generate", str(write_tiny(cwd)), "--out", "data"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(list((cwd / "data").rglob("*.npz"))) == 6  # 4 train, 1 val, 1 test shards
    auth = {k: hosts.environ[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    script = (
        "import sys; from study.reproduce import reproduce; "
        "reproduce(scale='smoke', address=sys.argv[1], out_dir='run', parallel=True)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, hosts.address],
        cwd=cwd,
        env=env(**auth),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Ray tasks" in (cwd / "run" / "reproduction.md").read_text()
    assert len(list((cwd / "run" / "runs").glob("*/generated.npz"))) == 4


@pytest.fixture
def lonely_hosts(tmp_path):
    """Two hosts whose head runs nothing: every trial runs on the worker."""
    yield from _hosts(tmp_path, share=True, head_cpus=0)


def _on_worker(hosts, study: str, driver) -> None:
    client = None
    deadline = time.time() + 400
    while time.time() < deadline:
        assert driver.poll() is None, "the study ended before its worker was lost"
        try:
            client, _, runs = trial_runs(hosts.cwd, study)
        except (FileNotFoundError, ValueError, KeyError):
            runs = []
        if any(
            r.info.status == "RUNNING" and r.data.tags.get("ray.node_ip") == hosts.worker_ip
            for r in runs
        ):
            time.sleep(2)  # an epoch checkpoint or two
            return
        time.sleep(0.5)
    pytest.fail("no trial trained on the worker")


def test_a_lost_worker_moves_its_trials_to_the_nodes_left(shared_hosts):
    hosts, cwd = shared_hosts, shared_hosts.cwd
    config = write_tiny(cwd, SPREAD)
    auth = {k: hosts.environ[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    log = cwd / "driver.out"
    args = ["launch", str(config), "--name", "lost", "--address", hosts.address]
    driver = subprocess.Popen(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd,
        env=env(**auth),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _on_worker(hosts, "lost", driver)
    hosts.kill_worker()
    assert driver.wait(timeout=900) == 0, log.read_text()[-3000:]
    out = log.read_text()
    assert f"lost node {hosts.worker_ip}" in out and "goes on from its last checkpoint" in out, out
    assert "marked dead" not in out and "Traceback" not in out, out[-3000:]
    _, _, runs = trial_runs(cwd, "lost")
    trials = [r.data.tags["scalefree.trial_id"] for r in runs]
    assert len(trials) == len(set(trials)) == 4 and all(r.info.status == "FINISHED" for r in runs)


def test_with_no_node_left_the_study_stops_in_one_line_and_resume_finishes(lonely_hosts):
    hosts, cwd = lonely_hosts, lonely_hosts.cwd
    config = write_tiny(cwd, "search: {num_samples: 2, max_concurrent: 2}\n")
    auth = {k: hosts.environ[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    log = cwd / "driver.err"
    args = ["launch", str(config), "--name", "alone", "--address", hosts.address]
    driver = start(args, cwd, stderr=log.open("w"), SCALEFREE_NODE_GRACE_S="20", **auth)
    _on_worker(hosts, "alone", driver)
    hosts.kill_worker()
    assert driver.wait(timeout=600) == 1, log.read_text()[-3000:]
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert len(lines) == 1 and "cluster: must have a node that can run a trial" in lines[0], lines
    assert "scalefree resume alone" in lines[0]
    hosts.start_worker()
    proc = hosts.cli(["resume", "alone"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _, _, runs = trial_runs(cwd, "alone")
    trials = [r.data.tags["scalefree.trial_id"] for r in runs]
    assert len(trials) == len(set(trials)) == 2 and all(r.info.status == "FINISHED" for r in runs)
