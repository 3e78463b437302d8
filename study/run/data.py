"""Dataset generation fanned out over Ray tasks, one shard per task.

The shard function is plain physics (:func:`physics.dataset.make_shard`); this module only schedules
it. Each task holds one CPU and runs torch single-threaded (LAPACK on two threads collapses 10–20×
when the other core is busy). Results come back through the object store and the driver writes them
to the cache, so a worker on another node needs no shared filesystem.

Shards are solved on CPUs even where the cluster has GPUs, for a measured reason
(``benchmarks/gpu_check.sh`` on an H200 with 16 CPU cores, torch 2.11 + CUDA 13): torch's CUDA
``eigh`` of 256×256 float64 matrices solves one matrix after another (~500 a second, the same at batch
1, 64 or 512; MAGMA ~107), so one GPU generates 476 structures a second against ~2,600 for the same
node's 16 cores as one-thread tasks (0.18×); CuPy's batched Jacobi solver reached 1,860 a second,
still below the cores. The GPU's last bits also differ from the CPU's (3e-12), and a shard's bytes
must not depend on where it was solved. ``gpu_fraction`` still sends shards to GPUs when asked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from physics.dataset import SPLITS, DatasetSpec, ShardTask, Split, generate, load, make_shard

__all__ = [
    "ray_map_shards",
    "generate_with_ray",
    "load_splits",
    "start_baselines",
    "save_baselines",
    "load_baselines",
    "baselines_file",
]


def _shard_task(spec: DatasetSpec, task: ShardTask, use_gpu: bool) -> tuple[ShardTask, dict]:
    import torch

    torch.set_num_threads(1)
    # A GPU share runs on CUDA when this worker's torch has it; declared-but-absent GPUs (a CPU
    # build of torch, a test cluster) fall back to the CPU instead of failing.
    return task, make_shard(spec, task, device="auto" if use_gpu else "cpu")


def ray_map_shards(*, max_in_flight: int | None = None, gpu_fraction: float = 0.0) -> callable:
    """A ``map_shards`` for :func:`physics.dataset.generate` running each shard as a Ray task.

    ``max_in_flight`` caps concurrent tasks (``None``: as many as the cluster has CPUs);
    ``gpu_fraction`` > 0 gives each task that share of a GPU and solves it there (default 0: the
    CPUs are faster, see the module's docstring).
    """
    import ray

    def map_shards(spec: DatasetSpec, tasks: list[ShardTask]) -> Iterator[tuple[ShardTask, dict]]:
        frac = gpu_fraction or 0.0
        remote = ray.remote(num_cpus=1, num_gpus=frac, max_retries=3)(_shard_task)
        limit = max_in_flight or max(1, int(ray.cluster_resources().get("CPU", 1)))
        pending, queue = [], list(tasks)
        while queue or pending:
            while queue and len(pending) < limit:
                pending.append(remote.remote(spec, queue.pop(0), frac > 0))
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])

    return map_shards


def generate_with_ray(
    spec: DatasetSpec,
    root: str | os.PathLike,
    *,
    max_in_flight: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Generate (or complete) the cached dataset of ``spec`` on the connected Ray cluster;
    ``progress`` receives one line per shard (default: stderr)."""
    shards = ray_map_shards(max_in_flight=max_in_flight)
    return generate(spec, root, map_shards=shards, progress=progress)


def load_splits(spec: DatasetSpec, root: str | os.PathLike) -> dict[str, Split]:
    return {split: load(spec, root, split) for split in SPLITS}


def baselines_file(trial, root: str | os.PathLike) -> Path:
    """Cache file of the dataset baselines of a trial config: beside the dataset's shards, keyed by
    the scoring settings they depend on (targets, linear model) and the baseline code's version."""
    import hashlib
    import json

    from physics.dataset import dataset_dir

    score = trial.score
    settings = [BASELINES_VERSION, score.n_generated, score.rdf_bins, score.rdf_rmax, score.ridge]
    key = hashlib.sha256(json.dumps(settings).encode()).hexdigest()[:16]
    return dataset_dir(trial.data, root) / f"baselines-{key}.json"


BASELINES_VERSION = 1  # bump when trainables.baseline changes what it computes


def _baselines_task(trial, splits: dict) -> dict:
    import time

    import torch

    from trainables.baseline import dataset_baselines

    torch.set_num_threads(1)
    started = time.time()
    values = dataset_baselines(trial, splits, device="cpu")
    return values | {"compute_start": started, "compute_end": time.time()}


def start_baselines(trial, root: str | os.PathLike, splits: dict):
    """The dataset baselines of ``trial`` (a TrialConfig): a dict when their cache is intact, else
    the ObjectRef of a Ray task computing them. The task asks for no CPU of its own: trials need
    the numbers only when they score, so it runs beside the first trials instead of before them
    (7 s of a smoke study's start otherwise). torch and scikit-learn stay out of the driver."""
    import json

    import ray

    from physics.dataset import read_checked

    stored = read_checked(baselines_file(trial, root))
    if stored is not None:
        try:
            return json.loads(stored)
        except ValueError:
            pass
    return ray.remote(num_cpus=0)(_baselines_task).remote(trial, splits)


def save_baselines(trial, root: str | os.PathLike, started) -> dict:
    """The baselines :func:`start_baselines` returned, cached with a checksum (like the shards)
    when they were computed; returns them (with ``compute_start``/``_end`` when computed now)."""
    import json

    import ray

    from physics.dataset import write_checked

    if isinstance(started, dict):
        return started
    from trainables.baseline import DATASET_BASELINES

    values = ray.get(started)
    cached = {key: values[key] for key in DATASET_BASELINES}
    write_checked(baselines_file(trial, root), json.dumps(cached, indent=1).encode())
    return values


def baselines_interval(values: dict) -> tuple[float, float] | None:
    """When the baselines were computed (Unix seconds), if this study computed them."""
    if "compute_start" not in values:
        return None
    return values["compute_start"], values["compute_end"]


def load_baselines(trial, root: str | os.PathLike, splits: dict) -> dict:
    """The dataset baselines of ``trial``, from their cache or computed and cached now."""
    from trainables.baseline import DATASET_BASELINES

    values = save_baselines(trial, root, start_baselines(trial, root, splits))
    return {key: values[key] for key in DATASET_BASELINES}
