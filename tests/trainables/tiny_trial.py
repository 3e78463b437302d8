"""Tiny datasets and configs for the trainables tests: 8×8 lattices (64 atoms), exact float64 w."""

from __future__ import annotations

import physics
from physics import DatasetSpec
from trainables.config import NetConfig, ScoreConfig, TrainConfig, TrialConfig

SIZE = 8


def make_split(n: int, seed: int, size: int = SIZE) -> physics.Split:
    disp, disorder = physics.sample_structures(n, seed=seed, size=size)
    return physics.Split(disp, physics.mode_areas(disp), disorder)


def small_net(stages: int = 1, *, dropout: float = 0.0, l2: float = 0.0) -> NetConfig:
    return NetConfig(stages=stages, filters=(4, 8, 8, 8)[:stages], fc=32, dropout=dropout, l2=l2)


def tiny_config(**overrides) -> TrialConfig:
    """The smallest trial that exercises every part: 8×8, 1-2 stages, 1 epoch, 8 designs."""
    base = dict(
        data=DatasetSpec(size=SIZE, n_train=200, n_val=40, n_test=40, shard_size=100),
        forward=small_net(2, dropout=0.5),
        inverse_net=small_net(1, l2=5e-3),
        forward_train=TrainConfig(epochs=1, batch_size=32, lr=1e-3),
        inverse_train=TrainConfig(epochs=1, batch_size=32, lr=1e-3),
        score=ScoreConfig(n_generated=8, n_attacked=2, rdf_bins=20),
        threads=1,
    )
    return TrialConfig(**{**base, **overrides})
