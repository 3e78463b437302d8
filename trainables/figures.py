"""A trial's figures, saved beside its artifacts (and logged to its MLflow run by the study).

``figures/training_curves.png``  loss and validation accuracy of both phases, one step axis
``figures/dr_ccdf.png``          CCDF of the designs' Δr with the fitted power law (Fig. 4g)
``figures/weight_ccdf.png``      CCDF of the inverse head's W_j with its fit (Fig. 5b)
``figures/delta_map.png``        per-atom attack sensitivity δ of the first attacked pair (Fig. 6c,d)
``figures/mode_areas.png``       target vs designed sorted mode areas of three pairs

A figure that cannot be drawn (a fit with too few tail points) is skipped; the metrics say why.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from torch import nn

from trainables.designs import Designs

__all__ = ["save_trial_figures"]


def _curves(history: list[dict]) -> list[dict]:
    """Per-epoch rows on one step axis; keys name the phase (forward_*, inverse_*)."""
    rows = []
    for row in history:
        phase = row["phase"]
        rows.append(
            {
                "epoch": row["step"],
                f"{phase} train loss (MAPE + L2)": row["train_loss"],
                f"{phase} val accuracy (1 − MAPE)": row["val_accuracy"],
            }
        )
    return rows


def save_trial_figures(
    directory: str | os.PathLike,
    *,
    history: list[dict],
    designs: Designs,
    true_areas: np.ndarray,
    inverse: nn.Module,
    attacks: object,
) -> list[Path]:
    """Write the figures above under ``directory/figures``; returns the files written."""
    import analysis

    out = Path(directory) / "figures"
    written = []
    drawings = (
        ("training_curves.png", lambda p: analysis.training_curves(_curves(history), p)),
        (
            "dr_ccdf.png",
            lambda p: analysis.power_law_ccdf(
                analysis.displacement_magnitudes(designs.displacements),
                p,
                xlabel="Δr (lattice periods)",
            ),
        ),
        (
            "weight_ccdf.png",
            lambda p: analysis.weight_ccdf(
                inverse.head.weight.detach().double().cpu().numpy(), p, size=inverse.size
            ),
        ),
        (
            "delta_map.png",
            lambda p: analysis.delta_maps(attacks.seed_delta[0], attacks.generated_delta[0], p),
        ),
        ("mode_areas.png", lambda p: analysis.mode_area_comparison(designs.targets, true_areas, p)),
    )
    for name, draw in drawings:
        try:
            written.append(draw(out / name))
        except ValueError:
            continue
    return written
