"""Collapse guard: is a trial's result a finding, or a net that never learned?

A study's Pareto front must not rank broken trials. Two failures were seen (smoke study, before the
relative forward head of :class:`trainables.models.ForwardNet`):

* **dead forward net**: its FC ReLUs die in the first Adam steps, so its output is constant and its
  input gradient is exactly zero; the inverse net trained through it then gets gradient only from
  its L2 term;
* **collapsed designs**: the inverse net puts out one near-undeformed lattice for every target
  (max |Δ| ≈ the initial head-bias bound 1/√fc, w_avg correlation 0, a flat validation curve).

:func:`collapse_metrics` measures both and returns ``collapsed`` (0/1) and, when 1, the reasons.
Thresholds are set far from healthy trials (measured on smoke trials: FC activity 0.3–0.8, input
gradient 1e-3–1e-1, max |Δ| ≥ 0.6, w_avg correlation ≥ 0.9, validation gains ≥ 0.01).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from trainables.training import to_training_tensor

__all__ = [
    "MIN_FC_ACTIVE",
    "MIN_INPUT_GRADIENT",
    "MIN_DESIGN_SPREAD",
    "MIN_W_AVG_CORRELATION",
    "MIN_VALIDATION_CHANGE",
    "fc_active_share",
    "input_gradient_rms",
    "collapse_metrics",
]

MIN_FC_ACTIVE = 0.05  # share of FC units firing on at least one input; dead nets measure ~0.001
MIN_INPUT_GRADIENT = 1e-6  # RMS of ∂Σ log w/∂Δ; a dead net's is exactly 0
MIN_DESIGN_SPREAD = 0.1  # max |Δ| of the designs / the training data's max |Δ|
MIN_W_AVG_CORRELATION = 0.5  # Pearson correlation of target and designed w_avg
MIN_VALIDATION_CHANGE = 1e-3  # range of the inverse net's per-epoch validation accuracy
PROBE = 64  # structures used for the forward-net probes


@torch.no_grad()
def fc_active_share(net: nn.Module, inputs: torch.Tensor) -> float:
    """Share of the forward net's FC units with a positive activation on at least one of
    ``inputs`` (eval mode: the body's dropout is the identity)."""
    net.eval()
    hidden = net.body(net.inputs(inputs))  # (B, fc), after the ReLU
    return float((hidden > 0).any(dim=0).float().mean())


def input_gradient_rms(forward: nn.Module, structures: torch.Tensor) -> float:
    """RMS over all input entries of ∂(Σ_m log w_m)/∂Δ at ``structures`` (B, 2, L, L)."""
    forward.eval()
    x = structures.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(torch.log(forward(x)).sum(), x)
    return float(grad.square().mean().sqrt())


def _reasons(values: dict[str, float]) -> list[str]:
    checks = (
        ("forward_fc_active", MIN_FC_ACTIVE, "forward FC layer dead"),
        ("forward_input_gradient", MIN_INPUT_GRADIENT, "forward net flat at the first designs"),
        ("design_spread", MIN_DESIGN_SPREAD, "designs barely leave the rest lattice"),
        ("w_avg_correlation", MIN_W_AVG_CORRELATION, "designed w_avg ignores the targets"),
        ("inverse_val_change", MIN_VALIDATION_CHANGE, "inverse validation accuracy flat"),
    )
    reasons = []
    for key, floor, what in checks:
        value = values.get(key, math.nan)
        if not value >= floor:  # NaN counts as failed
            reasons.append(f"{what} ({key}={value:.3g} < {floor:g})")
    return reasons


def collapse_metrics(
    forward: nn.Module,
    *,
    train_displacements: np.ndarray,
    initial_designs: np.ndarray,
    inverse_history: list[dict],
    scores: dict[str, object],
) -> dict[str, object]:
    """Probes and verdict: ``forward_fc_active``, ``forward_input_gradient`` (at the untrained
    inverse net's designs ``initial_designs`` (B, 2, L, L)), ``design_spread``,
    ``inverse_val_change``, ``collapsed`` (0/1) and, if collapsed, ``collapsed_reason``.

    ``scores`` are the trial's metrics so far (``max_abs_displacement``, ``w_avg_correlation``).
    """
    device = next(forward.parameters()).device
    probe = to_training_tensor(train_displacements[:PROBE], device)
    start = to_training_tensor(initial_designs[:PROBE], device)
    training_max = float(np.abs(train_displacements).max())
    curve = [row["val_accuracy"] for row in inverse_history]
    values = {
        "forward_fc_active": fc_active_share(forward, probe),
        "forward_input_gradient": input_gradient_rms(forward, start),
        "design_spread": float(scores["max_abs_displacement"]) / training_max,
        "inverse_val_change": float(np.ptp(curve)) if len(curve) > 1 else math.inf,
    }
    reasons = _reasons({**values, "w_avg_correlation": float(scores["w_avg_correlation"])})
    out: dict[str, object] = {**values, "collapsed": float(bool(reasons))}
    if reasons:
        out["collapsed_reason"] = "; ".join(reasons)
    return out
