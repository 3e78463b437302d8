"""Baselines that every learned accuracy is read against (what a trial must beat to mean anything).

At L = 16 most of the sorted mode areas is fixed by the disorder strength (ρ, σ) of Eq. 5: a
regressor that knows only (ρ, σ) reaches ~92 % (1 − MAPE), while the per-rank median reaches ~67 %.
A forward net's accuracy says it learned *structure* only when it beats that disorder-only ceiling;
a regressor on the quantiles of each structure's nearest-neighbour distances shows that beating it
is possible (~93–94 %). On the design side, trivial designers — a fresh Eq. 5 draw at the (ρ, σ)
of the training structure whose mode areas are nearest to the target, or that training structure
itself — set the bar for the inverse net's validated accuracy.

The regressor is k-nearest-neighbours with the per-rank *median* of the neighbours' targets: the
median minimises absolute error, so it is the right summary for a MAPE score (a mean is pulled by
the right-skewed mode areas), and at a single (ρ, σ) the oracle becomes exactly the per-rank-median
predictor. Neighbour search is scikit-learn's; features are standardised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from analysis.linear import accuracy
from physics import check_displacements, positions
from physics.checks import check_int

__all__ = [
    "KNeighborsMedian",
    "knn_median_accuracy",
    "neighbour_distance_quantiles",
    "nearest_by_relative_error",
]

K_CHOICES = (8, 16, 32, 64)  # neighbour counts tried on the validation split
_CHUNK = 1 << 24  # pairwise terms held at once by nearest_by_relative_error


class KNeighborsMedian:
    """Per-rank median of the targets of the ``k`` nearest training points (standardised features).

    Ties at the k-th distance are all included, so the prediction does not depend on the order of
    the training set; at a single (ρ, σ) every training point ties and the prediction is the
    per-rank median of all training targets.
    """

    def __init__(self, *, k: int = 32) -> None:
        self.k = check_int("k", k, 1)

    def fit(self, features: np.ndarray, targets: np.ndarray) -> KNeighborsMedian:
        from sklearn.neighbors import NearestNeighbors
        from sklearn.preprocessing import StandardScaler

        x = np.asarray(features, dtype=np.float64)
        self.targets = np.asarray(targets, dtype=np.float64)  # (n, T)
        if x.ndim != 2 or len(x) != len(self.targets):
            raise ValueError(
                f"features must be (n, F) with one row per target row, but got {x.shape} and "
                f"{self.targets.shape}."
            )
        self.scaler = StandardScaler().fit(x)
        self.search = NearestNeighbors().fit(self.scaler.transform(x))
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(m, T): per-rank median over each query's k nearest neighbours, ties included."""
        query = self.scaler.transform(np.asarray(features, dtype=np.float64))
        n = len(self.targets)
        k = min(self.k, n)
        distance, index = self.search.kneighbors(query, n_neighbors=min(k + 1, n))  # (m, k+1)
        out = np.median(self.targets[index[:, :k]], axis=1)  # (m, T)
        if k < n:
            tied = np.flatnonzero(distance[:, k] <= distance[:, k - 1])  # ties beyond the k-th
            for row in tied:
                near = self.search.radius_neighbors(
                    query[row : row + 1], radius=distance[row, k - 1], sort_results=False
                )[1][0]
                out[row] = np.median(self.targets[near], axis=0)
        return out


def knn_median_accuracy(
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    k_choices: Sequence[int] = K_CHOICES,
) -> tuple[float, int]:
    """(1 − MAPE on ``test``, chosen k): each split is (features (n, F), targets (n, T)); k is the
    choice with the best validation accuracy, so the test split is never used to tune."""
    best_k, best = k_choices[0], -math.inf
    for k in k_choices:
        model = KNeighborsMedian(k=k).fit(*train)
        score = accuracy(model.predict(val[0]), val[1])
        if score > best:
            best_k, best = k, score
    model = KNeighborsMedian(k=best_k).fit(*train)
    return accuracy(model.predict(test[0]), test[1]), best_k


def neighbour_distance_quantiles(displacements: np.ndarray, *, quantiles: int = 56) -> np.ndarray:
    """(n, quantiles): quantiles at levels (j + ½)/q of each structure's N nearest-neighbour
    distances (lattice periods), a structure descriptor that sees local order, not only (ρ, σ)."""
    from scipy.spatial import cKDTree

    if not isinstance(quantiles, int) or quantiles < 1:
        raise ValueError(f"quantiles must be a positive integer, but got {quantiles=}.")
    pos = positions(check_displacements(displacements))  # (n, N, 2)
    nearest = np.stack([cKDTree(p).query(p, k=2)[0][:, 1] for p in pos])  # (n, N)
    levels = (np.arange(quantiles) + 0.5) / quantiles
    return np.quantile(nearest, levels, axis=1).T


def nearest_by_relative_error(targets: np.ndarray, library: np.ndarray) -> np.ndarray:
    """Index (m,) of the ``library`` row (n, T) with the smallest mean |library − target| / target
    for each of ``targets`` (m, T): the nearest neighbour in the metric accuracy is scored in."""
    t = np.asarray(targets, dtype=np.float64)
    lib = np.asarray(library, dtype=np.float64)
    if t.ndim != 2 or lib.ndim != 2 or t.shape[1] != lib.shape[1] or not len(lib):
        raise ValueError(
            f"targets (m, T) and library (n, T) must share T, but got {t.shape} and {lib.shape}."
        )
    step = max(1, _CHUNK // (lib.shape[0] * lib.shape[1]))
    best = np.empty(len(t), dtype=np.int64)
    for start in range(0, len(t), step):
        chunk = t[start : start + step]  # (c, T)
        error = np.abs(lib[None] - chunk[:, None]) / chunk[:, None]  # (c, n, T)
        best[start : start + step] = error.mean(-1).argmin(-1)
    return best
