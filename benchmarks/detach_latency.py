"""Seconds from `scalefree launch … --detach` to the first trial starting, against a foreground
launch of the same study on the same running cluster (a local head with its job server), side by
side in one run: what submitting as a Ray Job costs before any work starts.

Both sides attach to the same running head (`--address`), so neither pays for starting Ray; the
detached side adds the job submission, the job's start on the head and the driver's own start
there. The first trial is its first `started` line (the foreground's stdout, the job's log).

Usage: python benchmarks/detach_latency.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from timing import print_machine

TINY = """\
preset: smoke
data: {size: 8, n_train: 256, n_val: 64, n_test: 64, shard_size: 64}
forward: {stages: 1, filters: [8], fc: 32}
inverse_net: {stages: 1, filters: [8], fc: 32}
forward_train: {epochs: 2}
inverse_train: {epochs: 2}
score: {n_generated: 32, n_attacked: 2, rdf_bins: 20}
space: {stages: [1, 2], filters: [4, 8], fc: [32], batch_size: [32]}
search: {num_samples: 1, max_concurrent: 1}
"""
STARTED = re.compile(r"\] \S+ started")


def _cli(args, cwd, env, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "study.cli", *args], cwd=cwd, env=env, text=True, **kwargs
    )


def foreground(cwd: Path, env: dict, address: str, name: str) -> float:
    start = time.perf_counter()
    proc = _cli(["launch", "tiny.yaml", "--name", name, "--address", address], cwd, env,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    first = None
    for line in proc.stdout:
        if first is None and STARTED.search(line):
            first = time.perf_counter() - start
    proc.wait()
    return first


def detached(cwd: Path, env: dict, server: str, name: str) -> float:
    start = time.perf_counter()
    submit = _cli(["launch", "tiny.yaml", "--name", name, "--detach", "--address", server],
                  cwd, env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    assert submit.wait() == 0, submit.stderr.read()
    follow = _cli(["logs", name, "-f"], cwd, env, stdout=subprocess.PIPE)
    first = None
    for line in follow.stdout:
        if first is None and STARTED.search(line):
            first = time.perf_counter() - start
    follow.wait()
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print_machine()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16), PYTHONUNBUFFERED="1")
    work = Path(tempfile.mkdtemp(prefix="sf-detach-"))
    temp = tempfile.mkdtemp(prefix="sf-dl-", dir="/tmp")
    (work / "tiny.yaml").write_text(TINY)
    port, dashboard = random.randint(20000, 30000), random.randint(30001, 40000)
    ray = str(Path(sys.executable).parent / "ray")
    head = subprocess.Popen(
        [ray, "start", "--head", f"--port={port}", f"--dashboard-port={dashboard}",
         "--num-cpus=2", f"--temp-dir={temp}", "--disable-usage-stats", "--block"],
        env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    server = f"http://127.0.0.1:{dashboard}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{server}/api/version", timeout=2)
                break
            except urllib.error.HTTPError:  # 401 without the token: it answers, it is up
                break
            except OSError:
                time.sleep(1)
        warm = foreground(work, env, f"127.0.0.1:{port}", "warm")  # dataset cached, imports warm
        print(f"warm-up foreground launch: first trial after {warm:.1f} s", flush=True)
        fg, dt = [], []
        for k in range(args.rounds):
            fg.append(foreground(work, env, f"127.0.0.1:{port}", f"fg{k}"))
            dt.append(detached(work, env, server, f"dt{k}"))
            print(f"round {k}: foreground {fg[-1]:.1f} s, detached {dt[-1]:.1f} s", flush=True)
        print(
            f"seconds to the first trial: foreground {min(fg):.1f}, detached {min(dt):.1f} "
            f"(best of {args.rounds}); detached / foreground = {min(dt) / min(fg):.2f}"
        )
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
