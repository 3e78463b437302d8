"""Inverse design and its validation (paper Fig. 3 and the 79.10 % Hamiltonian check).

The inverse net turns target sorted mode areas into structures; the structures are then solved
with the true Hamiltonian in float64 (:func:`physics.mode_areas`). The surrogate (L2D2L) accuracy
through the frozen forward net is reported beside it: the inverse net can fool the forward net, so
only the validated accuracy says whether the structures have the target localisation.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

import physics
from physics.accuracy import accuracy
from physics.device import resolve_device
from trainables.training import areas_to_image, predict, to_training_tensor

__all__ = [
    "Designs",
    "design",
    "refine",
    "generate_structures",
    "surrogate_mode_areas",
    "numpy_accuracy",
    "w_avg_correlation",
    "range_excess",
    "validate_structures",
]


def generate_structures(
    inverse: nn.Module, targets: np.ndarray, *, device: str | torch.device | None = None
) -> np.ndarray:
    """Displacements (n, 2, L, L) float64 that the inverse net designs for targets (n, N)."""
    dev = resolve_device(device)
    inverse.to(dev).eval()  # no dropout; predict() runs without autograd
    images = areas_to_image(to_training_tensor(targets, dev))  # (n, 1, L, L)
    return predict(inverse, images).double().cpu().numpy()  # (n, 2, L, L)


@dataclass(frozen=True)
class Designs:
    """What a trial generates; saved as generated.npz so anyone can recompute its scores."""

    targets: np.ndarray  # (n, N) target sorted mode areas, from the test split
    displacements: np.ndarray  # (n, 2, L, L) float64: the designs every score is measured on
    seed_displacements: np.ndarray  # (n, 2, L, L) the test structures the targets came from
    # (n, 2, L, L) the inverse net's own designs when they were refined afterwards, else None
    net_displacements: np.ndarray | None = None

    def save(self, path: str | os.PathLike) -> None:
        arrays = {k: np.asarray(v) for k, v in dataclasses.asdict(self).items() if v is not None}
        np.savez(path, **arrays)


def design(
    inverse: nn.Module,
    test: tuple[np.ndarray, np.ndarray],
    n: int,
    *,
    device: str | torch.device | None = None,
) -> Designs:
    """Structures for the first ``n`` test targets; ``test`` = (displacements, sorted w)."""
    seeds, targets = test[0][:n], test[1][:n]
    return Designs(targets, generate_structures(inverse, targets, device=device), seeds)


def refine(
    designs: Designs,
    *,
    steps: int,
    lr: float,
    a: float,
    broadening: float,
    device: str | torch.device | None = None,
    chunk: int = 64,
) -> Designs:
    """Test-time refinement: ``steps`` Adam steps on every design's own displacements, each
    minimising its MAPE against its target through the true Hamiltonian (float64, the Lorentzian-
    broadened eigenvector gradient of the physics epochs). Each design's loss depends on its own
    displacements only, so chunks of ``chunk`` structures add up to the exact full gradient.
    Returns the refined designs, the net's kept as ``net_displacements``."""
    from physics.accuracy import mape
    from physics.hamiltonian import differentiable_mode_areas

    if steps == 0:
        return designs
    dev = resolve_device(device)
    x = torch.tensor(designs.displacements, dtype=torch.float64, device=dev, requires_grad=True)
    y = torch.tensor(designs.targets, dtype=torch.float64, device=dev)
    optimizer = torch.optim.Adam([x], lr=lr)
    n = len(x)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        for start in range(0, n, chunk):
            part = slice(start, start + chunk)
            w = differentiable_mode_areas(x[part], a=a, broadening=broadening)  # (b, N)
            (mape(w, y[part]) * (w.shape[0] / n)).backward()
        optimizer.step()
    refined = x.detach().cpu().numpy()
    return dataclasses.replace(
        designs, displacements=refined, net_displacements=designs.displacements
    )


def surrogate_mode_areas(
    forward: nn.Module, displacements: np.ndarray, *, device: str | torch.device | None = None
) -> np.ndarray:
    """The forward net's mode areas (n, N) float64 for displacement images (n, 2, L, L)."""
    dev = resolve_device(device)
    forward.to(dev).eval()
    return predict(forward, to_training_tensor(displacements, dev)).double().cpu().numpy()


def numpy_accuracy(pred: np.ndarray, true: np.ndarray) -> float:
    """:func:`physics.accuracy.accuracy` of float64 arrays, as a Python float."""
    return float(accuracy(np.asarray(pred, np.float64), np.asarray(true, np.float64)))


def w_avg_correlation(targets: np.ndarray, true: np.ndarray) -> float:
    """Pearson correlation of w_avg = Σw/N between targets and structures; NaN if either is flat."""
    t, g = np.mean(targets, axis=-1), np.mean(true, axis=-1)  # (n,), (n,)
    t, g = t - t.mean(), g - g.mean()
    norm = np.sqrt(np.sum(t * t) * np.sum(g * g))
    return float(np.sum(t * g) / norm) if norm > 0 else float("nan")


def range_excess(displacements: np.ndarray, training_max: float) -> dict[str, float]:
    """How far structures leave the training range: max |Δ| and the fraction of components beyond
    the training data's max |Δ| (``training_max``)."""
    magnitude = np.abs(displacements)
    return {
        "max_abs_displacement": float(magnitude.max()),
        "out_of_range_fraction": float(np.mean(magnitude > training_max)),
    }


def validate_structures(
    targets: np.ndarray,
    displacements: np.ndarray,
    *,
    forward: nn.Module,
    training_max: float,
    a: float,
    t0: float,
    onsite: float,
    device: str | torch.device | None = None,
) -> tuple[dict[str, float], np.ndarray]:
    """Score generated structures against their targets; (metrics, true mode areas (n, N)).

    Metrics: ``validated_accuracy`` (true Hamiltonian, float64), ``l2d2l_accuracy`` (frozen forward
    net), ``w_avg_correlation``, ``max_abs_displacement``, ``out_of_range_fraction``.
    """
    true = physics.mode_areas(displacements, a=a, t0=t0, onsite=onsite, device=device)  # (n, N)
    surrogate = surrogate_mode_areas(forward, displacements, device=device)
    metrics = {
        "validated_accuracy": numpy_accuracy(true, targets),
        "l2d2l_accuracy": numpy_accuracy(surrogate, targets),
        "w_avg_correlation": w_avg_correlation(targets, true),
        **range_excess(displacements, training_max),
    }
    return metrics, true
