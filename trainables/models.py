"""The paper's two CNNs (Methods, "Network structures"): D2L (disorder → localisation) and L2D.

Both are ``stages`` × [conv 3×3 (zero padding) → ReLU → maxpool 2×2] → flatten → FC + ReLU →
dropout → output Linear (``.head``). Paper defaults: filters 256/512/1024, FC 2048, 16×16 lattice.

* :class:`ForwardNet` maps a displacement image (B, 2, L, L) to N = L² mode areas (B, N). Its head
  predicts each mode area relative to a per-rank scale μ_m (the training set's mean, set by
  :func:`trainables.training.fit_forward`): w_m = μ_m·exp(out_m), with the head initialised to zero.
  A randomly initialised linear head adds ~0.1 per mode against targets of 0.004–0.05; with the
  MAPE loss's 1/w weighting the first Adam steps then kill the FC ReLUs (measured: activity 52 % →
  0.1 % in ~5 steps, every 1-stage smoke net dead), and a dead forward net gives the inverse net no
  gradient. Starting at w = μ exactly, with relative (log-space) outputs, removes that failure.
  With ``config.bonds`` its input also carries :func:`physics.bond_hoppings` (4 channels): the
  relative change of each atom's four short-bond hoppings, which the Hamiltonian depends on and
  raw displacements give only through differences and a norm. Not in the paper; off by default.
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

from physics.hamiltonian import BONDS, DEFAULT_A, bond_hoppings
from physics.symmetry import D4_ORDER, d4_orbit
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
    """D2L CNN: displacement image (B, 2, L, L) → mode areas (B, N), compared with sorted w.

    Output w_m = μ_m·exp(out_m) with ``scale`` μ (N,) a buffer (saved with the weights) and the
    head zero at initialisation, so an untrained net predicts μ for every structure.
    """

    LOG_RATIO_MAX = 20.0  # clamp of out_m: far above any physical log(w/μ) (≤ log N), never NaN

    def __init__(
        self,
        config: NetConfig,
        size: int,
        *,
        a: float = DEFAULT_A,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.config, self.size, self.a = config, size, a
        channels = 2 + (len(BONDS) if config.bonds else 0)
        self.body = _ConvFC(config, size, channels, generator)
        self.head = nn.Linear(config.fc, size * size)
        init_parameters(self, generator)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("scale", torch.full((size * size,), 1.0 / (size * size)))

    @property
    def generator(self) -> torch.Generator | None:
        return self.body.dropout.generator

    @torch.no_grad()
    def set_scale(self, mean_areas: torch.Tensor) -> None:
        """μ_m from the training targets' per-rank mean (N,); every entry must be > 0."""
        if mean_areas.shape != self.scale.shape or not bool((mean_areas > 0).all()):
            bad = int((~(mean_areas > 0)).sum()) if mean_areas.shape == self.scale.shape else "?"
            raise ValueError(
                f"scale must be {tuple(self.scale.shape)} finite positive values (the per-rank "
                f"mean of the training targets), but got shape={tuple(mean_areas.shape)} with "
                f"{bad} bad entries."
            )
        self.scale.copy_(mean_areas)

    def inputs(self, displacements: torch.Tensor) -> torch.Tensor:
        """The image the convolutions see: (B, 2, L, L), or (B, 6, L, L) with bond channels."""
        if not self.config.bonds:
            return displacements
        return torch.cat([displacements, bond_hoppings(displacements, a=self.a)], dim=1)

    def log_ratio(self, displacements: torch.Tensor) -> torch.Tensor:
        """out_m = log(w_m / μ_m), (B, N)."""
        features = self.body(self.inputs(displacements))  # (B, fc)
        return self.head(features).clamp(max=self.LOG_RATIO_MAX)

    def _predict(self, displacements: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.exp(self.log_ratio(displacements))  # (B, N)

    def forward(self, displacements: torch.Tensor) -> torch.Tensor:
        """Predicted sorted mode areas (B, N) of displacement images (B, 2, L, L).

        ``config.symmetry`` (:mod:`physics.symmetry`): ``average`` predicts the mean over the
        eight D4 images of each structure, exactly invariant like the true mode areas;
        ``augment`` feeds each structure, in training mode only, as one of its eight images drawn
        from the net's own generator (saved in its checkpoints, so a resumed fit draws the same);
        ``both`` augments in training mode and averages otherwise (validation, scoring, and the
        frozen forward net under the inverse net), which costs augment's training time, not
        average's 4-5x (benchmarks/symmetry_design.py).
        """
        symmetry = self.config.symmetry
        if symmetry == "average" or (symmetry == "both" and not self.training):
            orbit = d4_orbit(displacements)  # (8, B, 2, L, L)
            batch = displacements.shape[0]
            return self._predict(orbit.flatten(0, 1)).view(D4_ORDER, batch, -1).mean(dim=0)
        if symmetry in ("augment", "both") and self.training:
            batch = displacements.shape[0]
            elements = torch.randint(
                0, D4_ORDER, (batch,), generator=self.generator, device="cpu"
            ).to(displacements.device)
            orbit = d4_orbit(displacements)  # (8, B, 2, L, L)
            displacements = orbit[elements, torch.arange(batch, device=displacements.device)]
        return self._predict(displacements)


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
