"""Data-generation benchmark: ratios measured side by side in one run.

1. generation throughput ÷ raw batched ``eigh`` of the same matrices on one thread, against torch's
   LAPACK (target ≥ 0.9) and the faster of torch's and numpy's (target ≥ 0.85; physics.eigh picks
   the faster library, and building H and the mode areas costs ~10 % of the diagonalisation). The
   sides are timed in turn, round after round, so that they share the machine's load; ``--load k``
   adds k busy single-threaded processes beside them;
2. Ray with k single-threaded workers ÷ k independent processes (target ≥ 0.85);
3. speed-up over a straightforward per-structure Python-loop build, as a reproduction written from
   the paper would do it.

Usage: python benchmarks/datagen.py [--structures 512] [--workers 2] [--rounds 5] [--load 0]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from timing import best_of, best_of_interleaved, busy_cores, print_machine

os.environ.setdefault("OMP_NUM_THREADS", "1")


def naive_mode_areas(disp: np.ndarray, a=1.1454, t0=3.14e-2, onsite=1.0) -> np.ndarray:
    """Per-structure, per-pair Python loops: H element by element, then numpy eigh."""
    size = disp.shape[-1]
    n_atoms = size * size
    out = []
    for d in disp:
        xs = [i % size + d[0].ravel()[i] for i in range(n_atoms)]
        ys = [i // size + d[1].ravel()[i] for i in range(n_atoms)]
        h = np.empty((n_atoms, n_atoms))
        for i in range(n_atoms):
            for j in range(n_atoms):
                if i == j:
                    h[i, j] = onsite
                else:
                    h[i, j] = t0 * np.exp(-a * np.sqrt((xs[i] - xs[j]) ** 2 + (ys[i] - ys[j]) ** 2))
        _, vec = np.linalg.eigh(h)
        out.append(sorted(1.0 / (n_atoms * np.sum(vec**4, axis=0))))
    return np.array(out)


def _process_worker(args) -> float:
    from physics.dataset import ShardTask, make_shard

    spec, count, index = args
    torch.set_num_threads(1)
    start = time.perf_counter()
    make_shard(spec, ShardTask("train", index, count))
    return time.perf_counter() - start


def main() -> None:
    print_machine()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--load",
        type=int,
        default=0,
        help="busy processes running beside [1] (same load, both sides)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    import physics
    from physics.hamiltonian import hopping_matrix

    disp = physics.sample_displacements(64, seed=0)
    pos = torch.as_tensor(physics.positions(disp))
    physics.mode_areas(disp[:4])
    from physics.eigh import backend_for

    matrices = hopping_matrix(pos, 1.1454)
    # The three are timed in turn, round after round, so that both sides of each ratio see the
    # same load (the machine is shared); each keeps its best round.
    # Every side runs on one thread: generation's numpy eigh is held to torch's thread count, and
    # so must the raw numpy eigh be (OpenBLAS would otherwise take both cores).
    with busy_cores(args.load), threadpool_limits(limits=1, user_api="blas"):
        full, raw_torch, raw_numpy = best_of_interleaved(
            [
                lambda: physics.mode_areas(disp),
                lambda: torch.linalg.eigh(matrices),
                lambda: np.linalg.eigh(matrices.numpy()),
            ],
            rounds=args.rounds,
        )
    fastest = min(raw_torch, raw_numpy)
    print(
        f"[1] 64 structures, one thread, {args.load} busy process(es) beside: full generation "
        f"{full:.3f} s (eigh via {backend_for(256)}); raw batched eigh: torch {raw_torch:.3f} s, "
        f"numpy {raw_numpy:.3f} s"
    )
    print(
        f"    generation throughput / torch eigh throughput = {raw_torch / full:.3f}  (target >= 0.9)"
    )
    print(
        f"    generation throughput / fastest eigh throughput = {fastest / full:.3f}  (target >= 0.85)"
    )

    few = disp[:2]
    naive = best_of(lambda: naive_mode_areas(few), repeats=1) / len(few)
    ours = full / len(disp)
    np.testing.assert_allclose(naive_mode_areas(few[:1]), physics.mode_areas(few[:1]), atol=1e-9)
    print(f"[3] per structure: Python-loop build {naive * 1e3:.1f} ms, ours {ours * 1e3:.1f} ms")
    print(f"    speed-up over the loop build = {naive / ours:.1f}x")

    from physics.dataset import DatasetSpec

    k, n = args.workers, args.structures
    shard = max(1, n // (4 * k))
    spec = DatasetSpec(n_train=n, n_val=1, n_test=1, shard_size=shard, seed=1)
    per = n // k
    ctx = mp.get_context("spawn")
    with ctx.Pool(k) as pool:
        pool.map(_process_worker, [(spec, 8, 1000 + i) for i in range(k)])  # warm imports
        start = time.perf_counter()
        pool.map(_process_worker, [(spec, per, i) for i in range(k)])
        procs = time.perf_counter() - start

    import ray

    from study.run.data import ray_map_shards

    ray.init(num_cpus=k, include_dashboard=False, configure_logging=False, log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            warm = DatasetSpec(n_train=8 * k, n_val=1, n_test=1, shard_size=8, seed=2)
            physics.generate(
                warm, tmp, map_shards=ray_map_shards(max_in_flight=k), progress=lambda s: None
            )
            start = time.perf_counter()
            physics.generate(
                spec, tmp, map_shards=ray_map_shards(max_in_flight=k), progress=lambda s: None
            )
            ray_time = time.perf_counter() - start
    finally:
        ray.shutdown()
    print(
        f"[2] {n} structures: {k} independent processes {procs:.2f} s, Ray with {k} workers {ray_time:.2f} s"
    )
    print(f"    Ray throughput / process throughput = {procs / ray_time:.3f}  (target >= 0.85)")


if __name__ == "__main__":
    main()
