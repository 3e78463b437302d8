"""The paper's two CNNs (Methods, "Network structures"): D2L (disorder → localisation) and L2D.

Both are ``stages`` × [conv 3×3 (zero padding) → ReLU → maxpool 2×2] → flatten → FC + ReLU →
dropout → output Linear (``.head``). Paper defaults: filters 256/512/1024, FC 2048, 16×16 lattice.

* :class:`ForwardNet` maps a displacement image (B, 2, L, L) to N = L² mode areas (B, N).
* :class:`InverseNet` maps sorted mode areas reshaped to an image (B, 1, L, L) to a displacement
  image (B, 2, L, L). Its head has 2N outputs: rows 0..N−1 are Δx and rows N..2N−1 are Δy of atom
  ``s = ny*L + nx`` (the convention of :mod:`physics.lattice`), so ``head.weight`` (2N, F) is the
  W_j of the paper's weight analysis.

Randomness is explicit: a CPU ``torch.Generator`` passed at construction initialises the weights
(PyTorch's default scheme) and then draws the dropout masks, so a net is reproducible without
touching torch's global RNG, and the same masks are drawn on CPU and GPU.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from trainables.config import NetConfig, max_stages

__all__ = ["GeneratorDropout", "ForwardNet", "InverseNet", "init_parameters", "conv_side"]


def conv_side(size: int, stages: int) -> int:
    """Side of the feature maps after ``stages`` 2×2 poolings (floor division, as maxpool does)."""
    for _ in range(stages):
        size //= 2
    return size


def init_parameters(module: nn.Module, generator: torch.Generator | None) -> None:
    """PyTorch's default Conv/Linear initialisation, drawn from ``generator`` (None = global RNG)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            fan_in = layer.weight[0].numel()
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class GeneratorDropout(nn.Module):
    """Inverted dropout whose masks come from an explicit CPU generator (None = global RNG)."""

    def __init__(self, p: float, generator: torch.Generator | None = None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be in [0, 1), but got {p=}.")
        self.p = p
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand(x.shape, generator=self.generator) >= self.p  # CPU, then moved
        return x * keep.to(device=x.device, dtype=x.dtype) / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _ConvFC(nn.Module):
    """Shared body: conv stages, flatten, FC + ReLU + dropout; ``features`` outputs per sample."""

    def __init__(
        self, config: NetConfig, size: int, channels: int, generator: torch.Generator | None
    ):
        super().__init__()
        if not 1 <= config.stages <= max_stages(size) or len(config.filters) != config.stages:
            raise ValueError(
                f"stages/filters do not fit a {size}×{size} lattice, but got {config=}."
            )
        layers: list[nn.Module] = []
        for width in config.filters:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels = width
        self.convs = nn.Sequential(*layers)
        flat = channels * conv_side(size, config.stages) ** 2
        self.fc = nn.Linear(flat, config.fc)
        self.dropout = GeneratorDropout(config.dropout, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convs(x)  # (B, filters[-1], L/2^stages, L/2^stages)
        x = torch.relu(self.fc(x.flatten(1)))  # (B, fc)
        return self.dropout(x)


class ForwardNet(nn.Module):
    """D2L CNN: displacement image (B, 2, L, L) → mode areas (B, N), compared with sorted w."""

    def __init__(self, config: NetConfig, size: int, *, generator: torch.Generator | None = None):
        super().__init__()
        self.config, self.size = config, size
        self.body = _ConvFC(config, size, 2, generator)
        self.head = nn.Linear(config.fc, size * size)
        init_parameters(self, generator)

    @property
    def generator(self) -> torch.Generator | None:
        return self.body.dropout.generator

    def forward(self, displacements: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(displacements))  # (B, N)


class InverseNet(nn.Module):
    """L2D CNN: sorted mode areas as an image (B, 1, L, L) → displacement image (B, 2, L, L).

    ``bound`` (lattice units) squashes every output component as ``bound·tanh(raw/bound)``: the
    identity for small outputs, never beyond ±bound (used with the training data's max |Δ|).
    """

    def __init__(
        self,
        config: NetConfig,
        size: int,
        *,
        bound: float | None = None,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if bound is not None and not (math.isfinite(bound) and bound > 0):
            raise ValueError(f"bound must be a finite number > 0 or None, but got {bound=}.")
        self.config, self.size, self.bound = config, size, bound
        self.body = _ConvFC(config, size, 1, generator)
        self.head = nn.Linear(config.fc, 2 * size * size)
        init_parameters(self, generator)

    @property
    def generator(self) -> torch.Generator | None:
        return self.body.dropout.generator

    def forward(self, areas_image: torch.Tensor) -> torch.Tensor:
        raw = self.head(self.body(areas_image))  # (B, 2N): Δx of atoms 0..N−1, then Δy
        if self.bound is not None:
            raw = self.bound * torch.tanh(raw / self.bound)
        return raw.view(-1, 2, self.size, self.size)  # (B, 2, L, L), pixel [c, ny, nx]
