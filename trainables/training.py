"""Training loops of the D2L and L2D CNNs (paper Methods and Eqs. 3, 4).

* Loss: MAPE, mean over modes and structures of |w_pred − w_true| / w_true (Eq. 3 for D2L, Eq. 4
  for L2D2L); accuracy = 1 − MAPE.
* Optimiser: Adam, learning rate multiplied by ``lr_decay`` after every epoch (ExponentialLR).
* Regularisation: dropout on the FC layer (in the net) and an L2 penalty in TensorFlow's convention,
  ``scale·Σw²/2`` over the weights (not biases) of the net being trained.
* The inverse net is trained through the frozen forward net (``mode='surrogate'``, the paper), through
  the true Hamiltonian (``'physics'``, :func:`physics.hamiltonian.differentiable_mode_areas`), or first one then the other
  (``'hybrid'``). The forward net is put in eval mode with ``requires_grad=False`` and is not in the
  optimiser: its weights come out bit-identical.
* The physics epochs start with fresh Adam moments at their own learning rate
  (``inverse.physics_lr``, then decayed per epoch like the rest) and a Lorentzian-broadened eigenvector
  gradient (``inverse.physics_broadening``): with a near-exact 1/(λi − λj) the gradients of nearly
  degenerate modes are heavy tailed (a few batches 30–60× the median norm) and at the surrogate
  phase's learning rate they throw the net off — displacements explode or collapse. The physics loss
  is float64 end to end (float32 w of near-degenerate 16×16 modes are off by up to 14 %).

Randomness is explicit: batch order from a numpy ``Generator``, dropout masks from the net's own
torch ``Generator`` (see :mod:`trainables.models`). Library code never seeds torch globally.
:func:`configure_torch` sets torch's process-wide CPU thread count, which torch only offers globally.

Checkpoints (one file, rewritten atomically after every epoch) hold the weights, the optimiser and
scheduler, the epoch, elapsed seconds, the history and both RNG states, so an interrupted fit
resumes exactly where it stopped.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from physics.accuracy import accuracy, mape
from physics.device import resolve_device
from physics.hamiltonian import differentiable_mode_areas
from trainables.config import InverseConfig, TrainConfig, inverse_phase_epochs
from trainables.state import FitResult, TrainState  # re-exported: the fit's state and result

__all__ = [
    "EpochCallback",
    "FitResult",
    "TrainState",
    "float_accuracy",
    "areas_to_image",
    "configure_torch",
    "fit_forward",
    "fit_inverse",
    "freeze",
    "l2_penalty",
    "predict",
    "to_training_tensor",
    "torch_generator",
    "training_range",
]

EpochCallback = Callable[[dict], None]
Objective = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (inputs, targets) → MAPE
EVAL_BATCH = 512  # structures per no-grad evaluation batch


def float_accuracy(pred: torch.Tensor, true: torch.Tensor) -> float:
    """:func:`physics.accuracy.accuracy` in float64, as a Python float."""
    return float(accuracy(pred.double(), true.double()))


def l2_penalty(model: nn.Module, scale: float) -> torch.Tensor | float:
    """TensorFlow's ``l2_regularizer(scale)``: scale·Σw²/2 over weight tensors (ndim ≥ 2) only."""
    if scale == 0:
        return 0.0
    return scale * sum(p.square().sum() for p in model.parameters() if p.ndim >= 2) / 2


def configure_torch(threads: int) -> None:
    """Process-wide torch CPU threads (``threads > 0``; 0 leaves torch's default)."""
    if threads < 0:
        raise ValueError(f"threads must be >= 0, but got {threads=}.")
    if threads > 0:
        torch.set_num_threads(threads)


def torch_generator(seed: int | np.random.SeedSequence) -> torch.Generator:
    """A CPU torch generator seeded from a SeedSequence (or int) without touching global state."""
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    value = int(seq.generate_state(1, dtype=np.uint64)[0]) & (2**63 - 1)
    return torch.Generator().manual_seed(value)


def to_training_tensor(array: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """The one float32 cast of data for the nets: a fresh copy, so read-only arrays are fine."""
    return torch.tensor(np.asarray(array, dtype=np.float32), device=resolve_device(device))


def training_range(displacements: np.ndarray) -> float:
    """Max |Δ| over all components of the training displacements (lattice units)."""
    return float(np.abs(displacements).max())


def areas_to_image(areas: torch.Tensor) -> torch.Tensor:
    """Sorted mode areas (B, N) → the inverse net's input image (B, 1, L, L), L = √N."""
    size = math.isqrt(areas.shape[-1])
    assert size * size == areas.shape[-1], areas.shape
    return areas.reshape(-1, 1, size, size)


@torch.no_grad()
def predict(fn: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """``fn`` over ``inputs`` in batches of :data:`EVAL_BATCH`, without autograd."""
    return torch.cat([fn(inputs[i : i + EVAL_BATCH]) for i in range(0, len(inputs), EVAL_BATCH)])


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode (no dropout) and ``requires_grad=False``: gradients pass through, weights stay."""
    model.eval()
    model.requires_grad_(False)
    return model


def _train_epoch(
    state: TrainState,
    objective: Objective,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    batch_size: int,
    l2: float,
    deadline: float,
) -> tuple[float, bool]:
    """One pass in shuffled mini-batches; (mean loss, stopped by the deadline)."""
    state.model.train()
    order = torch.as_tensor(state.batches.permutation(len(inputs)), device=inputs.device)
    total, seen, late = torch.zeros((), device=inputs.device), 0, False
    for start in range(0, len(inputs), batch_size):
        idx = order[start : start + batch_size]
        loss = objective(inputs[idx], targets[idx]) + l2_penalty(state.model, l2)
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        total += loss.detach() * len(idx)
        seen += len(idx)
        if time.perf_counter() > deadline:
            late = True
            break
    state.scheduler.step()
    return float(total) / seen, late


def _fit(
    state: TrainState,
    phases: Callable[[int], tuple[str, Objective]],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    validate: Callable[[str], float],
    *,
    config: TrainConfig,
    epochs: int,
    l2: float,
    on_epoch: EpochCallback | None,
    checkpoint: str | os.PathLike | None,
) -> FitResult:
    """The shared loop: epochs (1-based) until ``epochs`` or the time budget, then stop."""
    if checkpoint is not None:
        state.restore(checkpoint)
    start = time.perf_counter() - state.seconds
    budget = config.time_budget_s
    deadline = start + budget if budget > 0 else math.inf
    while not state.finished and state.epoch < epochs:
        epoch = state.epoch + 1
        name, objective = phases(epoch)
        lr = state.optimizer.param_groups[0]["lr"]  # used during this epoch
        loss, late = _train_epoch(
            state,
            objective,
            inputs,
            targets,
            batch_size=config.batch_size,
            l2=l2,
            deadline=deadline,
        )
        if not math.isfinite(loss):
            raise FloatingPointError(f"training diverged at epoch {epoch}: train loss {loss}.")
        row = {
            "epoch": epoch,
            "objective": name,
            "train_loss": loss,
            "val_accuracy": validate(name),
            "lr": lr,
            "seconds": time.perf_counter() - start,
        }
        state.epoch, state.seconds, state.finished = epoch, row["seconds"], late
        state.history.append(row)
        if checkpoint is not None:
            state.save(checkpoint)
        if on_epoch is not None:
            on_epoch(dict(row))
    last = state.history[-1]["val_accuracy"] if state.history else math.nan
    stopped = "time_budget" if state.finished else "epochs"
    return FitResult(list(state.history), state.epoch, state.seconds, last, stopped)


def fit_forward(
    model: nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    *,
    seed: int | np.random.SeedSequence,
    device: str | torch.device | None = None,
    on_epoch: EpochCallback | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> FitResult:
    """Train the D2L net on (displacements (n, 2, L, L), sorted mode areas (n, N)), Eq. 3.

    L2 and dropout come from ``model.config``. The net's per-rank scale μ is set to the mean
    training vector (see :class:`trainables.models.ForwardNet`), so training starts at the
    constant-mean prediction with every FC unit alive.
    """
    dev = resolve_device(device)
    model.to(dev)
    x, y = to_training_tensor(train[0], dev), to_training_tensor(train[1], dev)
    val_x, val_y = to_training_tensor(val[0], dev), to_training_tensor(val[1], dev)
    model.set_scale(y.mean(dim=0))
    state = TrainState.create(model, config, seed)

    def objective(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return mape(model(inputs), targets)  # (B, N) vs (B, N)

    def validate(_: str) -> float:
        model.eval()
        return float_accuracy(predict(model, val_x), val_y)

    return _fit(
        state,
        lambda epoch: ("d2l", objective),
        x,
        y,
        validate,
        config=config,
        epochs=config.epochs,
        l2=model.config.l2,
        on_epoch=on_epoch,
        checkpoint=checkpoint,
    )


def _start_physics(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Enter the physics phase: Adam moments of the surrogate loss forgotten, lr set to ``lr``
    (the scheduler keeps multiplying it by ``lr_decay`` after every epoch). Runs once, before the
    first physics epoch; a resumed physics phase gets both back from the checkpoint instead."""
    optimizer.state.clear()
    for group in optimizer.param_groups:
        group["lr"] = lr


def fit_inverse(
    model: nn.Module,
    forward: nn.Module,
    train_areas: np.ndarray,
    val_areas: np.ndarray,
    config: TrainConfig,
    *,
    inverse: InverseConfig | None = None,
    a: float | None = None,
    seed: int | np.random.SeedSequence,
    device: str | torch.device | None = None,
    on_epoch: EpochCallback | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> FitResult:
    """Train the L2D net so that w(L2D(w_target)) ≈ w_target, Eq. 4.

    ``inverse.mode``: 'surrogate' runs ``config.epochs`` epochs through the frozen ``forward`` net;
    'physics' runs ``inverse.physics_epochs`` epochs through the true Hamiltonian (hopping decay
    ``a``; the mode areas do not depend on t0's magnitude or the on-site energy); 'hybrid' runs the
    surrogate epochs, then the physics epochs. The physics epochs run at ``inverse.physics_lr``
    with fresh Adam moments (see :func:`_start_physics`). The forward net is frozen (see
    :func:`freeze`).
    """
    inverse = inverse or InverseConfig()
    dev = resolve_device(device)
    model.to(dev)
    freeze(forward.to(dev))
    y, val_y = to_training_tensor(train_areas, dev), to_training_tensor(val_areas, dev)
    x, val_x = areas_to_image(y), areas_to_image(val_y)
    state = TrainState.create(model, config, seed)

    def surrogate(structures: torch.Tensor) -> torch.Tensor:
        return forward(structures)  # (B, N), through the frozen D2L net

    def true_physics(structures: torch.Tensor) -> torch.Tensor:
        # (B, N) float64, sorted ascending: the loss stays in float64 (mape promotes targets)
        return differentiable_mode_areas(
            structures.double(), a=a, broadening=inverse.physics_broadening
        )

    areas_of = {"surrogate": surrogate, "physics": true_physics}

    def make_objective(name: str) -> Objective:
        return lambda inputs, targets: mape(areas_of[name](model(inputs)), targets)

    n_surrogate, n_physics = inverse_phase_epochs(config, inverse)
    if n_physics and a is None:
        raise ValueError(f"inverse.mode={inverse.mode!r} needs the hopping decay a, but got {a=}.")

    def phases(epoch: int) -> tuple[str, Objective]:
        name = "surrogate" if epoch <= n_surrogate else "physics"
        if epoch == n_surrogate + 1 and name == "physics":
            _start_physics(state.optimizer, inverse.physics_lr)
        return name, make_objective(name)

    def validate(name: str) -> float:
        model.eval()
        return float_accuracy(predict(lambda w: areas_of[name](model(w)), val_x), val_y)

    return _fit(
        state,
        phases,
        x,
        y,
        validate,
        config=config,
        epochs=n_surrogate + n_physics,
        l2=model.config.l2,
        on_epoch=on_epoch,
        checkpoint=checkpoint,
    )
