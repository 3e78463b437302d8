"""One trial, as the paper does it: data → D2L → L2D through the frozen D2L → generate → score.

:func:`run_trial` knows nothing of Ray: ``report`` is any callable taking a metrics dict (tests pass
``results.append``; the study passes a Tune reporter). It is called once per epoch with ``phase``
('forward' or 'inverse'), ``epoch`` (within the phase), ``step`` (across phases), ``objective``,
``train_loss``, ``val_accuracy``, ``lr`` and ``seconds``. :func:`run_trial` returns a
:class:`TrialResult` (final metrics, designs, both nets, history); the caller decides what to keep
(:meth:`TrialResult.save` writes the artifact files and figures).

Seeds: the trial seed spawns one ``SeedSequence`` per purpose (forward weights and dropout, forward
batch order, the same for the inverse net, attacks), so changing one part of the trial leaves the
others' randomness unchanged.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

import physics
from physics.dataset import Split
from trainables.config import TrialConfig
from trainables.designs import Designs, design, generate_structures, refine
from trainables.diagnostics import PROBE, collapse_metrics
from trainables.figures import save_trial_figures
from trainables.models import ForwardNet, InverseNet
from trainables.score import score_trial
from trainables.training import (
    FitResult,
    configure_torch,
    fit_forward,
    fit_inverse,
    torch_generator,
    training_range,
)

__all__ = [
    "TrialResult",
    "TrialSeeds",
    "load_splits",
    "save_artifacts",
    "train_forward",
    "train_inverse",
    "run_trial",
]

Report = Callable[[dict], None]
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class TrialSeeds:
    forward_net: np.random.SeedSequence  # forward weights, then its dropout masks
    forward_batches: np.random.SeedSequence  # forward batch order
    inverse_net: np.random.SeedSequence
    inverse_batches: np.random.SeedSequence
    attacks: int  # single-atom attack directions
    bootstrap: int  # resamples of the α and robustness-gain intervals

    @classmethod
    def spawn(cls, seed: int) -> TrialSeeds:
        # SeedSequence children depend only on their index: adding a purpose keeps the others.
        # Child 5 seeded the design baseline, now the dataset's (trainables.baseline.design_seed).
        children = np.random.SeedSequence(seed).spawn(7)
        nets, ints = children[:4], (children[4], children[6])
        return cls(*nets, *(int(s.generate_state(1)[0]) for s in ints))


def _check_split(name: str, split: object, size: int) -> Split:
    n_atoms = size * size
    rule = (
        f"must be (displacements (n, 2, {size}, {size}), mode_areas (n, {n_atoms}), "
        "disorder (n, 2))"
    )
    arrays = tuple(np.asarray(a) for a in split)
    if len(arrays) != 3:
        raise ValueError(f"data[{name!r}] {rule}, but got {len(arrays)} arrays.")
    disp, areas, disorder = arrays
    n = len(disp)
    if (
        disp.ndim != 4
        or disp.shape[1:] != (2, size, size)
        or areas.shape != (n, n_atoms)
        or disorder.shape != (n, 2)
    ):
        shapes = tuple(a.shape for a in arrays)
        raise ValueError(f"data[{name!r}] {rule}, but got shapes={shapes}.")
    return Split(disp, areas, disorder)


def load_splits(
    config: TrialConfig,
    data: dict[str, Split] | None = None,
    data_root: str | os.PathLike | None = None,
) -> dict[str, Split]:
    """``data`` as given (checked against the config), else the cached dataset under ``data_root``
    (generated in-process if missing)."""
    if data is None:
        if data_root is None:
            raise ValueError(
                "run_trial needs data or data_root, but got data=None, data_root=None."
            )
        spec = config.data
        physics.generate(spec, data_root)
        data = {split: physics.load(spec, data_root, split) for split in SPLITS}
    missing = [split for split in SPLITS if split not in data]
    if missing:
        raise ValueError(f"data must hold the splits {SPLITS}, but got keys={sorted(data)}.")
    splits = {name: _check_split(name, data[name], config.data.size) for name in SPLITS}
    n_test, n_generated = len(splits["test"][0]), config.score.n_generated
    if n_generated > n_test:
        raise ValueError(
            f"score.n_generated must be <= the test split ({n_test}), got {n_generated}."
        )
    return splits


def _net_file(model: nn.Module) -> dict:
    bound, a = getattr(model, "bound", None), getattr(model, "a", None)
    config = dataclasses.asdict(model.config)
    return {
        "state_dict": model.state_dict(),
        "config": config,
        "size": model.size,
        "bound": bound,
        "a": a,
    }


def save_artifacts(
    directory: str | os.PathLike, designs: Designs, forward: nn.Module, inverse: nn.Module
) -> None:
    """generated.npz (targets (n, N), displacements and seed_displacements (n, 2, L, L)) and the
    weights as forward.pt / inverse.pt (``state_dict``, net config, lattice size, output bound)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    designs.save(directory / "generated.npz")
    torch.save(_net_file(forward), directory / "forward.pt")
    torch.save(_net_file(inverse), directory / "inverse.pt")


def _phase_row(phase: str, offset: int, row: dict) -> dict:
    """A per-epoch row with its phase and its step across phases (the trial's epoch count)."""
    return {"phase": phase, "step": offset + row["epoch"], **row}


def _phase_reporter(report: Report, phase: str, offset: int) -> Callable[[dict], None]:
    return lambda row: report(_phase_row(phase, offset, row))


@dataclasses.dataclass(frozen=True)
class TrialResult:
    """Everything a trial produced, in memory; nothing is written until :meth:`save`."""

    config: TrialConfig
    metrics: dict[str, object]  # final metrics (numbers, plus the ``collapsed_reason`` text)
    designs: Designs  # targets, generated and seed displacements
    true_areas: np.ndarray  # (n, N) Hamiltonian mode areas of the generated structures
    attacks: object  # analysis.RobustnessGain of the attacked pairs
    forward: ForwardNet  # trained (or the shared one it was given), frozen
    inverse: InverseNet
    initial_head: np.ndarray  # (2N, F) the inverse head's weight at initialisation
    history: list[dict]  # per-epoch rows of both phases, with ``phase`` and ``step``
    seeds: TrialSeeds

    @property
    def head_weight(self) -> np.ndarray:
        """(2N, F) float64 output weight of the trained inverse net (W_j, Fig. 5b)."""
        return self.inverse.head.weight.detach().double().cpu().numpy()

    def save(self, directory: str | os.PathLike) -> None:
        """generated.npz, forward.pt, inverse.pt and figures/ under ``directory``."""
        save_artifacts(directory, self.designs, self.forward, self.inverse)
        save_trial_figures(
            directory,
            history=self.history,
            designs=self.designs,
            true_areas=self.true_areas,
            inverse=self.inverse,
            attacks=self.attacks,
        )


def _checkpoint(directory: str | os.PathLike | None, name: str) -> Path | None:
    return None if directory is None else Path(directory) / f"{name}.ckpt"


def train_forward(
    config: TrialConfig,
    splits: dict[str, Split],
    *,
    seeds: TrialSeeds,
    device: torch.device,
    report: Report,
    checkpoint_dir: str | os.PathLike | None = None,
) -> tuple[ForwardNet, FitResult]:
    """The D2L net (Fig. 2), trained on train, validated on val; per-epoch 'forward' reports."""
    generator = torch_generator(seeds.forward_net)
    net = ForwardNet(config.forward, config.data.size, a=config.data.a, generator=generator)
    fitted = fit_forward(
        net,
        splits["train"],
        splits["val"],
        config.forward_train,
        seed=seeds.forward_batches,
        device=device,
        on_epoch=_phase_reporter(report, "forward", 0),
        checkpoint=_checkpoint(checkpoint_dir, "forward"),
    )
    return net, fitted


def train_inverse(
    config: TrialConfig,
    forward: ForwardNet,
    splits: dict[str, Split],
    *,
    seeds: TrialSeeds,
    device: torch.device,
    report: Report,
    step_offset: int = 0,
    checkpoint_dir: str | os.PathLike | None = None,
) -> tuple[InverseNet, FitResult, np.ndarray, np.ndarray]:
    """The L2D net (Fig. 3) trained on the train split's mode areas through the frozen D2L net;
    also its fit and, from before training, the structures it designed for the first validation
    targets (where the collapse guard probes the forward net's gradient) and its head weight."""
    bound = training_range(splits["train"][0]) if config.inverse.bound else None
    generator = torch_generator(seeds.inverse_net)
    net = InverseNet(config.inverse_net, config.data.size, bound=bound, generator=generator)
    head = net.head.weight.detach().double().numpy().copy()  # (2N, F) at initialisation
    initial = generate_structures(net, splits["val"][1][:PROBE], device=device)
    fitted = fit_inverse(
        net,
        forward,
        splits["train"][1],
        splits["val"][1],
        config.inverse_train,
        inverse=config.inverse,
        a=config.data.a,
        seed=seeds.inverse_batches,
        device=device,
        on_epoch=_phase_reporter(report, "inverse", step_offset),
        checkpoint=_checkpoint(checkpoint_dir, "inverse"),
    )
    return net, fitted, initial, head


def run_trial(
    config: TrialConfig,
    report: Report,
    *,
    data: dict[str, Split] | None = None,
    data_root: str | os.PathLike | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    forward: ForwardNet | None = None,
    baselines: dict | Callable[[], dict] | None = None,
    seeds: TrialSeeds | None = None,
) -> TrialResult:
    """Train, generate, score; report per epoch; return the :class:`TrialResult`.

    ``baselines``: the dataset's baselines when the caller has them (a study computes them once,
    :func:`trainables.baseline.dataset_baselines`), or a function returning them when asked (at
    scoring); else they are computed here.

    ``forward``: a trained forward net to use instead of training one (runs that differ only in
    their inverse side share it; its epochs are then neither run nor reported, and inverse steps
    still start after ``forward_train.epochs``).

    ``seeds``: the trial's randomness per purpose, instead of :meth:`TrialSeeds.spawn` of
    ``config.seed`` (benchmarks/noise_sources.py varies one purpose while holding the others).
    """
    configure_torch(config.threads)
    device = physics.resolve_device(config.device)
    seeds = seeds if seeds is not None else TrialSeeds.spawn(config.seed)
    splits = load_splits(config, data, data_root)
    context = dict(seeds=seeds, device=device, report=report, checkpoint_dir=checkpoint_dir)

    forward_rows: list[dict] = []
    if forward is None:
        forward, fitted = train_forward(config, splits, **context)
        forward_rows, offset = fitted.history, fitted.epochs
    else:
        forward, offset = forward.to(device), config.forward_train.epochs
    inverse, inverse_fit, initial, initial_head = train_inverse(
        config, forward, splits, step_offset=offset, **context
    )

    designs = design(inverse, splits["test"], config.score.n_generated, device=device)
    designs = refine(
        designs,
        steps=config.inverse.refine_steps,
        lr=config.inverse.refine_lr,
        a=config.data.a,
        broadening=config.inverse.physics_broadening,
        device=device,
    )
    scores = score_trial(
        config,
        forward,
        inverse,
        splits,
        designs,
        attack_seed=seeds.attacks,
        bootstrap_seed=seeds.bootstrap,
        baselines=baselines,
        device=device,
    )
    metrics = dict(scores.metrics)
    metrics |= collapse_metrics(
        forward,
        train_displacements=splits["train"][0],
        initial_designs=initial,
        inverse_history=inverse_fit.history,
        scores=metrics,
    )
    history = [_phase_row("forward", 0, row) for row in forward_rows]
    history += [_phase_row("inverse", offset, row) for row in inverse_fit.history]
    return TrialResult(
        config=config,
        metrics=metrics,
        designs=designs,
        true_areas=scores.true_areas,
        attacks=scores.attacks,
        forward=forward,
        inverse=inverse,
        initial_head=initial_head,
        history=history,
        seeds=seeds,
    )
