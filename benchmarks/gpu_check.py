"""The GPU check: what a lent GPU does for this project, measured side by side with the CPU of the
same machine in one run. Run through ``benchmarks/gpu_check.sh`` (under 8 minutes on one GPU).

[1] data generation (Eqs. 1, 2, 5 in float64): GPU throughput ÷ CPU throughput, the CPU on every
    core and on one core (a data-generation Ray worker), and the largest difference between the
    two devices' mode areas of the same structures;
[2] one epoch of the paper's forward net (256/512/1024 filters, FC 2048, dropout 0.5, batch 10,
    2e4 structures) on the GPU, and the same net's seconds per batch on the CPU for the ratio;
[3] the inverse net's ``physics`` mode (mode areas with gradients through ``eigh``, batch 32):
    GPU ÷ CPU seconds per structure.

The smoke study on the GPU is the shell script's part, since it needs the installed project.
Usage: python benchmarks/gpu_check.py [--structures 4096] [--epoch-structures 20000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from timing import print_machine


def _synced(fn, device: torch.device) -> float:
    """Wall seconds of ``fn()``, the GPU's queue drained before and after."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def data_generation(gpu: torch.device, n_gpu: int, n_cpu: int) -> tuple[np.ndarray, np.ndarray]:
    import physics

    cpu = torch.device("cpu")
    disp = physics.sample_displacements(max(n_gpu, n_cpu), seed=0)
    physics.mode_areas(disp[:64], device=gpu)  # warm-up: CUDA context, cusolver handles
    physics.mode_areas(disp[:8], device=cpu)
    gpu_s = min(
        _synced(lambda: physics.mode_areas(disp[:n_gpu], device=gpu), gpu) for _ in range(2)
    )
    threads = torch.get_num_threads()
    cpu_all_s = _synced(lambda: physics.mode_areas(disp[:n_cpu], device=cpu), cpu)
    torch.set_num_threads(1)
    try:
        one = min(n_cpu, 128)
        cpu_one_s = _synced(lambda: physics.mode_areas(disp[:one], device=cpu), cpu) * n_cpu / one
    finally:
        torch.set_num_threads(threads)
    same = disp[:64]
    diff = np.abs(physics.mode_areas(same, device=gpu) - physics.mode_areas(same, device=cpu)).max()
    gpu_rate, all_rate, one_rate = n_gpu / gpu_s, n_cpu / cpu_all_s, n_cpu / cpu_one_s
    print(
        f"[1] data generation, 16×16, float64: GPU {gpu_rate:,.0f} structures/s ({n_gpu} in "
        f"{gpu_s:.2f} s); CPU {all_rate:,.0f}/s on {threads} threads, {one_rate:,.0f}/s on one"
    )
    print(
        f"    GPU ÷ CPU ({threads} threads) = {gpu_rate / all_rate:.1f}x; GPU ÷ one CPU core = "
        f"{gpu_rate / one_rate:.1f}x; GPU ÷ {os.cpu_count()} one-thread workers (one core's rate "
        f"× cores, as Ray runs generation) = {gpu_rate / (one_rate * os.cpu_count()):.2f}x"
    )
    print(
        f"    max |Δw| GPU vs CPU on 64 structures = {diff:.1e}",
        flush=True,
    )
    return physics.mode_areas(disp[:n_gpu], device=gpu), disp[:n_gpu]


def eigh_backends(gpu: torch.device, disp: np.ndarray) -> None:
    """Which of torch's CUDA eigensolvers, at which batch, diagonalises 256×256 float64 fastest."""
    import physics
    from physics.hamiltonian import DEFAULT_A, hopping_matrix

    pos = torch.as_tensor(physics.positions(disp[:512]), dtype=torch.float64, device=gpu)
    matrices = hopping_matrix(pos, DEFAULT_A)  # (512, 256, 256)
    rows = []
    for library in ("cusolver", "magma"):
        torch.backends.cuda.preferred_linalg_library(library)
        for batch in (1, 64, 512):

            def solve(batch: int = batch) -> None:
                for start in range(0, len(matrices), batch):
                    torch.linalg.eigh(matrices[start : start + batch])

            solve()
            seconds = min(_synced(solve, gpu) for _ in range(2))
            rows.append(f"{library} batch {batch}: {len(matrices) / seconds:,.0f}/s")
    torch.backends.cuda.preferred_linalg_library("default")
    build = _synced(lambda: hopping_matrix(pos, DEFAULT_A), gpu)
    print(f"    eigh of 512 matrices on the GPU, matrices a second: {'; '.join(rows)}")
    print(f"    building those 512 H on the GPU: {build * 1e3:.1f} ms", flush=True)


def forward_epoch(gpu: torch.device, areas: np.ndarray, disp: np.ndarray, n_epoch: int) -> None:
    from trainables.config import NetConfig, TrainConfig
    from trainables.models import ForwardNet
    from trainables.training import fit_forward

    reps = -(-n_epoch // len(disp))  # real structures, repeated up to the paper's split size
    x = np.tile(disp, (reps, 1, 1, 1))[:n_epoch].astype(np.float32)
    y = np.tile(areas, (reps, 1))[:n_epoch].astype(np.float32)
    val = (x[:1000], y[:1000])
    config = TrainConfig(epochs=1, batch_size=10, lr=1e-4, lr_decay=0.95)
    net = ForwardNet(NetConfig(), size=16)  # the paper's: 256/512/1024, FC 2048, dropout 0.5
    fit = fit_forward(net, (x, y), val, config, seed=0, device=gpu)
    print(
        f"[2] paper forward net, one epoch of {n_epoch} structures at batch 10 on the GPU: "
        f"{fit.seconds:.1f} s (validation accuracy after it {fit.val_accuracy:.3f})",
        flush=True,
    )
    # the CPU's seconds per batch of the same net, for the ratio (a whole CPU epoch takes minutes)
    cpu_net = ForwardNet(NetConfig(), size=16)
    cpu_net.set_scale(torch.as_tensor(y.mean(axis=0)))
    optimizer = torch.optim.Adam(cpu_net.parameters(), lr=1e-4)
    xb, yb = torch.as_tensor(x[:10]), torch.as_tensor(y[:10])

    def step() -> None:
        loss = (cpu_net(xb) - yb).abs().div(yb).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()
    batches = 20
    cpu_s = _synced(lambda: [step() for _ in range(batches)], torch.device("cpu")) / batches
    gpu_per_batch = fit.seconds / (n_epoch / 10)
    print(
        f"    CPU ({torch.get_num_threads()} threads): {cpu_s * 1e3:.0f} ms a batch, so "
        f"{cpu_s * n_epoch / 10:.0f} s an epoch; GPU {gpu_per_batch * 1e3:.1f} ms a batch "
        f"(with validation); GPU ÷ CPU = {cpu_s / gpu_per_batch:.0f}x",
        flush=True,
    )


def physics_mode(gpu_device: torch.device, disp: np.ndarray) -> None:
    from physics.hamiltonian import DEFAULT_A, differentiable_mode_areas

    def run(device: torch.device, batch: np.ndarray) -> float:
        x = torch.as_tensor(batch, dtype=torch.float64, device=device).requires_grad_(True)

        def once() -> None:
            w = differentiable_mode_areas(x, a=DEFAULT_A, broadening=1e-2)
            w.sum().backward()

        once()
        return min(_synced(once, device) for _ in range(2)) / len(batch)

    gpu = run(gpu_device, disp[:32])
    cpu = run(torch.device("cpu"), disp[:32])
    print(
        f"[3] inverse 'physics' mode (mode areas and their gradient, batch 32, float64): GPU "
        f"{gpu * 1e3:.2f} ms a structure, CPU ({torch.get_num_threads()} threads) {cpu * 1e3:.2f} "
        f"ms; GPU ÷ CPU = {cpu / gpu:.1f}x",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=4096, help="[1] on the GPU")
    parser.add_argument("--cpu-structures", type=int, default=512, help="[1] on the CPU")
    parser.add_argument("--epoch-structures", type=int, default=20000, help="[2]")
    parser.add_argument(
        "--device", default="cuda", help="the side measured against the CPU (cpu: a dry run)"
    )
    args = parser.parse_args()
    gpu = torch.device(args.device)
    if gpu.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU visible to torch on this machine; nothing to measure.")
        return
    print_machine()
    if gpu.type == "cuda":
        props = torch.cuda.get_device_properties(gpu)
        print(
            f"GPU: {props.name}, {props.total_memory / 2**30:.0f} GiB; torch {torch.__version__}, "
            f"CUDA {torch.version.cuda}",
            flush=True,
        )
    areas, disp = data_generation(gpu, args.structures, args.cpu_structures)
    if gpu.type == "cuda":
        eigh_backends(gpu, disp)
    forward_epoch(gpu, areas, disp, args.epoch_structures)
    physics_mode(gpu, disp)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
