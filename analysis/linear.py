"""Linear structure–property baseline (Wang, Cheng & Chen, "Beyond overcomplication").

Wang et al. show from first-order perturbation theory that disorder-induced changes of spectral
properties are approximately linear in the radial distribution function g(r), and fit ŷ = W g + b
with ridge / elastic-net regularisation. Here g(r) is the pair-distance distribution of a deformed
L×L lattice and y is either the sorted mode areas (the paper's target) or a density of states.

Normalisation of g(r): for pairs i < j with d_ij in shell k = [r_k, r_k+1),

    g_k = 2 c_k / (N ρ π (r_k+1² − r_k²)),   ρ = 1 atom per unit cell (lattice period 1),

the usual RDF (each pair counted for both atoms, divided by the ideal-gas count in the exact annulus
area, not its 2πrΔr approximation). The flake is finite with open boundaries, so g(r) falls below 1
at large r; that factor is the same for every structure and the linear weights absorb it.
"""

from __future__ import annotations

import math

import numpy as np

import physics
from physics.accuracy import accuracy as physics_accuracy
from physics.checks import check_int
from physics.hamiltonian import DEFAULT_A, DEFAULT_ONSITE, DEFAULT_T0

__all__ = ["pair_distance_features", "LinearSPR", "accuracy", "dos_targets"]

_CHUNK_PAIRS = 2_000_000  # pair distances held at once


def _histogram_rows(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Counts per row of ``values`` (n, M) in ``bins`` equal bins on [lo, hi): (n, bins)."""
    n = values.shape[0]
    k = np.floor((values - lo) * (bins / (hi - lo))).astype(np.int64)
    inside = (k >= 0) & (k < bins)
    flat = (k + bins * np.arange(n)[:, None])[inside]
    return np.bincount(flat, minlength=n * bins).reshape(n, bins).astype(np.float64)


def pair_distance_features(
    displacements: np.ndarray, *, bins: int = 80, r_max: float = 4.0
) -> np.ndarray:
    """g(r) of each deformed lattice on ``bins`` shells of [0, r_max): (n, bins) float64.

    Distances in lattice periods; see the module docstring for the normalisation.
    """
    disp = physics.check_displacements(displacements)
    bins = check_int("bins", bins, 1)
    if not (isinstance(r_max, (int, float, np.floating)) and math.isfinite(r_max) and r_max > 0):
        raise ValueError(f"r_max must be a finite number > 0, but got {r_max=}.")
    pos = physics.positions(disp)  # (n, N, 2)
    n, n_atoms, _ = pos.shape
    i, j = np.triu_indices(n_atoms, k=1)  # (P,) pairs i < j
    step = max(1, _CHUNK_PAIRS // i.size)
    counts = np.empty((n, bins))
    for start in range(0, n, step):
        p = pos[start : start + step]
        d = np.hypot(p[:, i, 0] - p[:, j, 0], p[:, i, 1] - p[:, j, 1])  # (c, P)
        counts[start : start + step] = _histogram_rows(d, 0.0, float(r_max), bins)
    edges = np.linspace(0.0, r_max, bins + 1)
    shell = np.pi * np.diff(edges**2)  # (bins,) annulus areas
    return 2.0 * counts / (n_atoms * 1.0 * shell)


def dos_targets(
    displacements: np.ndarray,
    *,
    bins: int,
    e_range: tuple[float, float],
    a: float = DEFAULT_A,
    t0: float = DEFAULT_T0,
    onsite: float = DEFAULT_ONSITE,
    device: str | None = None,
) -> np.ndarray:
    """Density of states per atom per unit energy on ``bins`` bins of ``e_range``: (n, bins).

    Energies E = ε + t0·λ (:func:`physics.spectrum`); levels outside ``e_range`` are dropped, so
    Σ DOS·ΔE = 1 only when the range holds the whole spectrum. Pass the same ``e_range`` for
    training and test sets.
    """
    bins = check_int("bins", bins, 1)
    try:
        lo, hi = (float(v) for v in e_range)
    except (TypeError, ValueError) as err:
        raise ValueError(f"e_range must be two numbers (low, high), but got {e_range=}.") from err
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"e_range must be finite with low < high, but got {e_range=}.")
    energies, _ = physics.spectrum(displacements, a=a, t0=t0, onsite=onsite, device=device)
    n_levels = energies.shape[1]
    return _histogram_rows(energies, lo, hi, bins) / (n_levels * (hi - lo) / bins)


def _as_matrix(name: str, value: object, rows: int | None = None) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, k), but got shape={arr.shape}.")
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows (one per structure), but got {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{name} must be finite, but got {int((~np.isfinite(arr)).sum())} NaN/inf."
        )
    return arr


class LinearSPR:
    """ŷ = W g + b fitted across structures (Wang et al. Eq. for the linear SPR model).

    ``method='ridge'`` (closed form) minimises ‖Y − X Wᵀ − b‖² + alpha‖W‖² (sklearn ``Ridge``
    convention, intercept not penalised). ``method='elastic_net'`` uses sklearn ``ElasticNet``, one
    independent sparse model per target column, with its convention
    ‖Y − X Wᵀ − b‖²/(2n) + alpha·l1_ratio‖W‖₁ + alpha·(1 − l1_ratio)‖W‖²/2: the sparse weights make
    the heat map of W interpretable (Wang et al. Fig. 3).
    """

    def __init__(
        self,
        *,
        alpha: float = 1e-3,
        method: str = "ridge",
        l1_ratio: float = 0.5,
        max_iter: int = 10_000,
    ) -> None:
        if method not in ("ridge", "elastic_net"):
            raise ValueError(f"method must be 'ridge' or 'elastic_net', but got {method=}.")
        if not (
            isinstance(alpha, (int, float, np.floating)) and math.isfinite(alpha) and alpha >= 0
        ):
            raise ValueError(f"alpha must be a finite number >= 0, but got {alpha=}.")
        if not (isinstance(l1_ratio, (int, float, np.floating)) and 0 <= l1_ratio <= 1):
            raise ValueError(f"l1_ratio must lie in [0, 1], but got {l1_ratio=}.")
        self.alpha, self.method, self.l1_ratio = float(alpha), method, float(l1_ratio)
        self.max_iter = check_int("max_iter", max_iter, 1)
        self.weights: np.ndarray | None = None  # (targets, features)
        self.bias: np.ndarray | None = None  # (targets,)

    def fit(self, features: np.ndarray, targets: np.ndarray) -> LinearSPR:
        """Fit on features (n, F) and targets (n, T); returns self."""
        x = _as_matrix("features", features)
        y = _as_matrix("targets", targets, rows=x.shape[0])
        if self.method == "ridge":
            x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
            xc = x - x_mean
            # ridge as least squares on [Xc; √α I] W = [Yc; 0]: no XᵀX, so no squared condition number
            lhs = np.vstack([xc, math.sqrt(self.alpha) * np.eye(x.shape[1])])
            rhs = np.vstack([y - y_mean, np.zeros((x.shape[1], y.shape[1]))])
            w = np.linalg.lstsq(lhs, rhs, rcond=None)[0]  # (F, T)
            self.weights, self.bias = w.T, y_mean - x_mean @ w
        else:
            from sklearn.linear_model import ElasticNet

            model = ElasticNet(alpha=self.alpha, l1_ratio=self.l1_ratio, max_iter=self.max_iter)
            model.fit(x, y)
            self.weights = np.atleast_2d(model.coef_).astype(np.float64)
            self.bias = np.atleast_1d(model.intercept_).astype(np.float64)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """ŷ = features Wᵀ + b: (n, T)."""
        if self.weights is None:
            raise ValueError("LinearSPR must be fitted before predict, but fit() was not called.")
        x = _as_matrix("features", features)
        if x.shape[1] != self.weights.shape[1]:
            raise ValueError(
                f"features must have {self.weights.shape[1]} columns (as in fit), but got "
                f"{x.shape[1]}."
            )
        return x @ self.weights.T + self.bias


def accuracy(pred: np.ndarray, true: np.ndarray) -> float:
    """1 − MAPE = 1 − mean over all entries of |pred − true| / |true| (the paper's accuracy)."""
    p, t = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    if p.shape != t.shape or p.size == 0:
        raise ValueError(
            f"pred and true must have the same non-empty shape, but got {p.shape} and {t.shape}."
        )
    for name, arr in (("pred", p), ("true", t)):
        if not np.isfinite(arr).all():
            raise ValueError(
                f"{name} must be finite, but got {int((~np.isfinite(arr)).sum())} NaN/inf."
            )
    if (t == 0).any():
        raise ValueError(
            f"true must be non-zero (MAPE divides by it), but got {int((t == 0).sum())} zeros."
        )
    return float(physics_accuracy(p, t))
