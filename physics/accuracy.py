"""The paper's accuracy of mode areas, 1 − MAPE (Eqs. 3, 4): one definition for the whole project.

Written with operators only, so the same function serves numpy arrays (scoring, reports) and torch
tensors (training losses, differentiable). Mode areas are ≥ 1/N > 0, so dividing by the target is
safe for them; :func:`analysis.accuracy` is the checked front door for arbitrary arrays.
"""

from __future__ import annotations

__all__ = ["mape", "accuracy"]


def mape(pred, true, axis: int | None = None):
    """Mean absolute percentage error, mean of |pred − true| / |true|, over all entries or
    ``axis``."""
    error = abs(pred - true) / abs(true)
    return error.mean() if axis is None else error.mean(axis)


def accuracy(pred, true, axis: int | None = None):
    """1 − MAPE, over all entries or per row along ``axis``; same type as the inputs."""
    return 1.0 - mape(pred, true, axis)
