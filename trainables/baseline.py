"""CNN-free baselines scored beside every trial (see :mod:`analysis.baselines` for why).

Forward side, 1 − MAPE on the test split, the same split as ``d2l_accuracy``:

* ``baseline_accuracy``: k-NN (mean) on four global displacement statistics (mean |Δr|, std |Δr|,
  std Δx, std Δy), the original bar (~92.6 % on 16×16 with 2e4 training structures);
* ``oracle_accuracy``: k-NN median on the true (ρ, σ) of Eq. 5 alone — the disorder-only ceiling;
* ``structure_baseline_accuracy``: k-NN median on 56 nearest-neighbour-distance quantiles;
* ``d2l_skill`` = 1 − MAPE(D2L) / MAPE(oracle): above 0 only if the CNN learned structure beyond
  the disorder strength.

Design side, on the trial's targets (the first ``score.n_generated`` test structures):

* ``retrieval_accuracy``: the training structure nearest to each target in relative error
  (its exact mode areas are known);
* ``design_baseline_accuracy``: a fresh Eq. 5 draw at that training structure's (ρ, σ), validated
  with the true Hamiltonian like the inverse net's designs;
* ``validated_skill`` = 1 − MAPE(validated) / MAPE(design baseline).

None of the baselines depends on the trial: :func:`dataset_baselines` computes them once per
dataset and scoring settings (the Eq. 5 draws of the design baseline are seeded by the dataset, not
the trial), so a study caches them beside its dataset (``study.data.load_baselines``) and every
trial and seed reads the same numbers; only the two skills are computed per trial.
"""

from __future__ import annotations

import numpy as np
import torch

import physics
from trainables.designs import numpy_accuracy

__all__ = [
    "DATASET_BASELINES",
    "dataset_baselines",
    "with_skills",
    "global_statistics",
    "linear_accuracy",
    "baseline_accuracy",
    "forward_baselines",
    "design_baselines",
    "skill",
]


def global_statistics(displacements: np.ndarray) -> np.ndarray:
    """(n, 4): mean |Δr|, std |Δr|, std Δx, std Δy of displacement images (n, 2, L, L)."""
    disp = np.asarray(displacements, dtype=np.float64)
    flat = disp.reshape(disp.shape[0], 2, -1)  # (n, 2, N)
    radius = np.hypot(flat[:, 0], flat[:, 1])  # (n, N)
    return np.stack(
        [radius.mean(-1), radius.std(-1), flat[:, 0].std(-1), flat[:, 1].std(-1)], axis=-1
    )


def baseline_accuracy(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    n_neighbors: int = 10,
) -> float:
    """Fit on ``train`` (displacements, sorted w), return 1 − MAPE on ``test``."""
    if not isinstance(n_neighbors, int) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a positive integer, but got {n_neighbors=}.")
    k = min(n_neighbors, len(train[0]))
    # Imported here: scikit-learn (1.2 s of a trial actor's start on 2 cores) is needed only
    # where the baselines are computed, once per dataset (benchmarks/study_overhead.py).
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=k))
    model.fit(global_statistics(train[0]), np.asarray(train[1], dtype=np.float64))
    return numpy_accuracy(model.predict(global_statistics(test[0])), test[1])


def skill(accuracy: float, reference: float) -> float:
    """1 − MAPE / MAPE_reference with MAPE = 1 − accuracy: 0 = as good as the reference, 1 = exact,
    negative = worse. NaN when the reference is exact (nothing left to beat)."""
    reference_error = 1.0 - reference
    return 1.0 - (1.0 - accuracy) / reference_error if reference_error > 0 else float("nan")


def forward_baselines(
    train: physics.Split, val: physics.Split, test: physics.Split, *, d2l_accuracy: float
) -> dict[str, float]:
    """oracle_accuracy, structure_baseline_accuracy (k chosen on ``val``) and d2l_skill."""
    import analysis

    oracle, _ = analysis.knn_median_accuracy(
        *((split.disorder, split.mode_areas) for split in (train, val, test))
    )
    quantiles = [analysis.neighbour_distance_quantiles(s.displacements) for s in (train, val, test)]
    structure, _ = analysis.knn_median_accuracy(
        *((q, split.mode_areas) for q, split in zip(quantiles, (train, val, test), strict=True))
    )
    return {
        "oracle_accuracy": oracle,
        "structure_baseline_accuracy": structure,
        "d2l_skill": skill(d2l_accuracy, oracle),
    }


def design_baselines(
    train: physics.Split,
    targets: np.ndarray,
    *,
    validated_accuracy: float,
    seed: int | np.random.SeedSequence,
    a: float,
    t0: float,
    onsite: float,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """retrieval_accuracy, design_baseline_accuracy and validated_skill for targets (n, N)."""
    import analysis

    nearest = analysis.nearest_by_relative_error(targets, train.mode_areas)  # (n,)
    rho, sigma = train.disorder[nearest, 0], train.disorder[nearest, 1]
    size = train.displacements.shape[-1]
    fresh = physics.deform(rho, sigma, seed=seed, size=size)  # (n, 2, L, L), Eq. 5
    areas = physics.mode_areas(fresh, a=a, t0=t0, onsite=onsite, device=device)
    design = numpy_accuracy(areas, targets)
    return {
        "retrieval_accuracy": numpy_accuracy(train.mode_areas[nearest], targets),
        "design_baseline_accuracy": design,
        "validated_skill": skill(validated_accuracy, design),
    }


# The baselines that depend only on the dataset and the scoring settings (one number per study).
DATASET_BASELINES = (
    "baseline_accuracy",
    "oracle_accuracy",
    "structure_baseline_accuracy",
    "linear_accuracy",
    "retrieval_accuracy",
    "design_baseline_accuracy",
)


def linear_accuracy(
    train: physics.Split, test: physics.Split, *, bins: int, r_max: float, ridge: float
) -> float:
    """1 − MAPE of the linear structure–property model on pair-distance histograms (Wang et al.)."""
    import analysis

    x_train, x_test = (
        analysis.pair_distance_features(d, bins=bins, r_max=r_max) for d in (train[0], test[0])
    )
    model = analysis.LinearSPR(alpha=ridge)
    model.fit(x_train, train[1])
    return float(analysis.accuracy(model.predict(x_test), test[1]))


def design_seed(spec) -> np.random.SeedSequence:
    """Seed of the design baseline's Eq. 5 draws: the dataset's (a spawn key no shard uses)."""
    return np.random.SeedSequence(spec.seed, spawn_key=(1_000_003,))


def dataset_baselines(config, splits: dict, *, device: str | torch.device | None = None) -> dict:
    """Every baseline of :data:`DATASET_BASELINES` for a trial config's dataset and scoring
    settings (``config``: :class:`trainables.config.TrialConfig`; the targets are the first
    ``score.n_generated`` test structures, as in every trial)."""
    data, score = config.data, config.score
    train, val, test = splits["train"], splits["val"], splits["test"]
    forward = forward_baselines(train, val, test, d2l_accuracy=float("nan"))
    design = design_baselines(
        train,
        test.mode_areas[: score.n_generated],
        validated_accuracy=float("nan"),
        seed=design_seed(data),
        a=data.a,
        t0=data.t0,
        onsite=data.onsite,
        device=device,
    )
    linear = linear_accuracy(
        train, test, bins=score.rdf_bins, r_max=score.rdf_rmax, ridge=score.ridge
    )
    values = {**forward, **design, "linear_accuracy": linear}
    values["baseline_accuracy"] = baseline_accuracy(train, test)
    return {key: float(values[key]) for key in DATASET_BASELINES}


def with_skills(baselines: dict, *, d2l_accuracy: float, validated_accuracy: float) -> dict:
    """The dataset's baselines plus this trial's two skills against them."""
    return {
        **{key: float(baselines[key]) for key in DATASET_BASELINES},
        "d2l_skill": skill(d2l_accuracy, baselines["oracle_accuracy"]),
        "validated_skill": skill(validated_accuracy, baselines["design_baseline_accuracy"]),
    }
