"""Physics-mode inverse training: one epoch through the true Hamiltonian against the bare cost of
the eigendecomposition and its backward on the same batch, measured side by side in one run.

[1] per structure, one thread: a physics-mode training step (inverse net forward, positions → K →
    eigh with the broadened backward → sorted mode areas → MAPE → backward → Adam step) ÷ raw
    ``torch.linalg.eigh`` of the same K plus the backward of a loss of its eigenvectors
    (target ≤ 1.3: everything around the eigensolver costs under 30 %);
[2] the broadened backward alone against torch's own eigh backward (the custom autograd function's
    price), and the forward eigh by torch's and numpy's LAPACK (physics.eigh's choice);
[3] the same ratio inside a real trial, what users wait for: the physics epoch of a smoke trial
    (``trainables.run_trial``, hybrid, its own epoch timing, validation included) ÷ raw eigh +
    backward of as many training structures, timed right after; best of three of each.

The two sides of each ratio are timed in turn, round after round (best_of_interleaved).
Usage: python benchmarks/physics_inverse.py [--structures 128] [--batch 32] [--size 16]
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch
from timing import best_of, best_of_interleaved, print_machine


def main() -> None:
    print_machine()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)

    import physics
    from physics.accuracy import mape
    from physics.hamiltonian import (
        broadened_eigh,
        differentiable_mode_areas,
        hopping_matrix,
        torch_positions,
    )
    from trainables.config import NetConfig
    from trainables.models import InverseNet
    from trainables.training import areas_to_image, torch_generator

    n, b, size, a = args.structures, args.batch, args.size, 1.1454
    disp = physics.sample_displacements(n, seed=0, size=size)
    targets = torch.as_tensor(physics.mode_areas(disp))  # (n, N) float64
    images = areas_to_image(targets.float())
    net = InverseNet(
        NetConfig(stages=3, filters=(32, 64, 128), fc=512, dropout=0.0, l2=5e-3),
        size,
        generator=torch_generator(0),
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4)

    def physics_epoch() -> None:
        net.train()
        for start in range(0, n, b):
            optimizer.zero_grad()
            out = net(images[start : start + b]).double()
            areas = differentiable_mode_areas(out, a=a, broadening=1e-2)
            mape(areas, targets[start : start + b]).backward()
            optimizer.step()

    structures = torch.as_tensor(disp)

    def raw_eigh_and_backward(solver, chosen: torch.Tensor = structures) -> None:
        for start in range(0, len(chosen), b):
            pos = torch_positions(chosen[start : start + b])
            k = hopping_matrix(pos, a).detach().requires_grad_(True)
            _, vec = solver(k)
            vec.pow(4).sum().backward()

    physics_epoch()  # warm up
    step, raw, ours = (
        t / n
        for t in best_of_interleaved(
            [
                physics_epoch,
                lambda: raw_eigh_and_backward(torch.linalg.eigh),
                lambda: raw_eigh_and_backward(lambda k: broadened_eigh(k, 1e-2)),
            ]
        )
    )
    k = hopping_matrix(torch_positions(structures[:b]), a)
    fwd_torch = best_of(lambda: torch.linalg.eigh(k)) / b
    fwd_numpy = best_of(lambda: np.linalg.eigh(k.numpy())) / b
    print(f"[1] {n} structures {size}x{size}, batch {b}, one thread, per structure:")
    print(
        f"    physics-mode training step {step * 1e3:.2f} ms; raw eigh + backward {raw * 1e3:.2f} ms"
    )
    print(f"    physics step / (eigh + backward) = {step / raw:.3f}  (target <= 1.3)")
    print(f"[2] eigh + broadened backward {ours * 1e3:.2f} ms = {ours / raw:.3f} x torch's own")
    print(
        f"    forward eigh alone: torch {fwd_torch * 1e3:.2f} ms, numpy {fwd_numpy * 1e3:.2f} ms "
        f"per matrix"
    )
    in_trial(raw_eigh_and_backward)


def in_trial(raw_eigh_and_backward) -> None:
    """[3]: a smoke trial's physics epoch against raw eigh + backward of its training structures."""
    import dataclasses
    import time

    import physics
    from study.files.config import load_config
    from trainables.trial import run_trial

    trial = load_config("smoke").trial
    data_spec = dataclasses.replace(trial.data, n_train=512, n_val=128, n_test=128, shard_size=128)
    trial = dataclasses.replace(
        trial,
        data=data_spec,
        inverse_train=dataclasses.replace(trial.inverse_train, epochs=1),
        forward_train=dataclasses.replace(trial.forward_train, epochs=1),
        score=dataclasses.replace(trial.score, n_generated=32, n_boot=0),
        threads=1,
    )
    with tempfile.TemporaryDirectory() as root:
        physics.generate(data_spec, root, progress=lambda line: None)
        data = {s: physics.load(data_spec, root, s) for s in ("train", "val", "test")}
    structures = torch.as_tensor(data["train"][0])
    epochs, raws = [], []
    for _ in range(3):  # a trial, then the raw side, three times: the best of each
        rows = []
        run_trial(trial, rows.append, data=data)
        inverse = [r for r in rows if r["phase"] == "inverse"]
        epochs.append(inverse[-1]["seconds"] - inverse[-2]["seconds"])  # physics, validation in
        start = time.perf_counter()
        raw_eigh_and_backward(torch.linalg.eigh, structures)
        raws.append(time.perf_counter() - start)
    epoch, raw = min(epochs), min(raws)
    print(f"[3] in a smoke trial ({len(structures)} training structures, one thread):")
    print(f"    physics epoch {epoch:.2f} s; raw eigh + backward of its structures {raw:.2f} s")
    print(f"    in-trial ratio = {epoch / raw:.3f}  (target <= 1.3)")


if __name__ == "__main__":
    main()
