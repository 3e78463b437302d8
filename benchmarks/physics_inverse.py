"""Physics-mode inverse training: one epoch through the true Hamiltonian against the bare cost of
the eigendecomposition and its backward on the same batch, measured side by side in one run.

[1] per structure, one thread: a physics-mode training step (inverse net forward, positions → K →
    eigh with the broadened backward → sorted mode areas → MAPE → backward → Adam step) ÷ raw
    ``torch.linalg.eigh`` of the same K plus the backward of a loss of its eigenvectors
    (target ≤ 1.3: everything around the eigensolver costs under 30 %);
[2] the broadened backward alone against torch's own eigh backward (the custom autograd function's
    price), and the forward eigh by torch's and numpy's LAPACK (physics.eigh's choice).

Usage: python benchmarks/physics_inverse.py [--structures 128] [--batch 32] [--size 16]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import best_of, print_machine


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

    def raw_eigh_and_backward(solver) -> None:
        for start in range(0, n, b):
            pos = torch_positions(structures[start : start + b])
            k = hopping_matrix(pos, a).detach().requires_grad_(True)
            _, vec = solver(k)
            vec.pow(4).sum().backward()

    physics_epoch()  # warm up
    step = best_of(physics_epoch) / n
    raw = best_of(lambda: raw_eigh_and_backward(torch.linalg.eigh)) / n
    ours = best_of(lambda: raw_eigh_and_backward(lambda k: broadened_eigh(k, 1e-2))) / n
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


if __name__ == "__main__":
    main()
