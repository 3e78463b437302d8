"""Shared by the benchmark scripts (run as ``python benchmarks/NAME.py``, so importable by name)."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), which every benchmark prints beside its figures:
    the fastest LAPACK and the ratios depend on it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def print_machine() -> None:
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores", flush=True)


def best_of(fn, repeats: int = 3) -> float:
    """The shortest of ``repeats`` wall times of ``fn()`` in seconds (the least disturbed run)."""
    return best_of_interleaved([fn], repeats)[0]


def best_of_interleaved(fns, rounds: int = 5) -> list[float]:
    """The shortest wall time of each of ``fns`` over ``rounds`` rounds, each round timing every
    function once in turn: a load that comes and goes then falls on all of them alike, which
    timing one function's repeats and then the next one's does not ensure."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _burn(stop) -> None:
    import numpy as np
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((256, 256))
    with threadpool_limits(limits=1, user_api="blas"):
        while not stop.is_set():  # BLAS on one core, like a data-generation worker
            a = np.tanh(a @ a.T / 256)


@contextlib.contextmanager
def busy_cores(count: int):
    """``count`` processes doing single-threaded BLAS work while the block runs (none for 0)."""
    if count <= 0:
        yield
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = [ctx.Process(target=_burn, args=(stop,), daemon=True) for _ in range(count)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let them reach their loop
    try:
        yield
    finally:
        stop.set()
        for p in procs:
            p.join(5)


ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def checkout_of(rev: str, parent: Path):
    """A detached worktree of ``rev`` under ``parent``, removed on exit: the "before" side of a
    benchmark that runs the same study with two versions of the code in turn."""
    import subprocess

    tree = parent / f"before-{rev}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        capture_output=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
            capture_output=True,
        )


def launch_with(tree: Path, data_dir: Path, sets: list[str], read):
    """``scalefree launch smoke --set …`` with the code of ``tree`` (ahead of the editable
    install on ``PYTHONPATH``, which Ray's local workers inherit), its datasets under
    ``data_dir``, in a scratch folder; returns ``read(folder, wall_seconds)`` before the folder
    goes."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
        env["PYTHONPATH"] = str(tree)
        sets = [*sets, f"tracking.data_dir={data_dir}"]
        args = [sys.executable, "-m", "study.cli", "launch", "smoke", "--name", "bench"]
        args += [item for s in sets for item in ("--set", s)]
        start = time.time()
        proc = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.time() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr[-3000:])
        return read(Path(tmp), wall)


def preset_trial(preset: str):
    """The trial config (``trainables.config.TrialConfig``) of a study preset."""
    from study.files.config import load_config

    return load_config(preset).trial


def preset_splits(trial, root: str) -> dict:
    """The train/val/test :class:`physics.Split` of ``trial``'s dataset under ``root``,
    generated there first if missing."""
    import physics

    physics.generate(trial.data, root, progress=lambda line: None)
    return {s: physics.load(trial.data, root, s) for s in ("train", "val", "test")}


def preset_baselines(trial, root: str) -> dict:
    """The dataset baselines of ``trial`` (computed once per dataset, as a study does)."""
    from trainables.baseline import dataset_baselines

    return dataset_baselines(trial, preset_splits(trial, root))
