"""What a fit carries from epoch to epoch and hands back: the model with its optimiser, scheduler
and every random state (saved atomically after each epoch, so a trial resumes exactly where it
stopped), and the fit's result."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trainables.config import TrainConfig

__all__ = ["TrainState", "FitResult"]


@dataclass
class TrainState:
    """Everything a fit needs to resume bit-for-bit: net, optimiser, schedule, epoch, RNGs."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.ExponentialLR
    batches: np.random.Generator  # batch order
    epoch: int = 0  # epochs completed
    seconds: float = 0.0  # training time so far, across resumes
    finished: bool = False  # stopped by the time budget: do not continue on resume
    history: list[dict] = field(default_factory=list)

    @classmethod
    def create(
        cls, model: nn.Module, config: TrainConfig, seed: int | np.random.SeedSequence
    ) -> TrainState:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
        return cls(model, optimizer, scheduler, np.random.default_rng(seed))

    def state_dict(self) -> dict:
        generator = getattr(self.model, "generator", None)
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "batches": self.batches.bit_generator.state,
            "dropout": None if generator is None else generator.get_state(),
            "epoch": self.epoch,
            "seconds": self.seconds,
            "finished": self.finished,
            "history": self.history,
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.batches.bit_generator.state = state["batches"]
        generator = getattr(self.model, "generator", None)
        if generator is not None and state["dropout"] is not None:
            generator.set_state(state["dropout"])
        self.epoch, self.seconds = state["epoch"], state["seconds"]
        self.finished, self.history = state["finished"], list(state["history"])

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: a crash mid-write leaves the previous checkpoint intact."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            torch.save(self.state_dict(), tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def restore(self, path: str | os.PathLike) -> bool:
        """Load ``path`` if it exists; True when something was restored."""
        if not Path(path).is_file():
            return False
        device = next(self.model.parameters()).device
        self.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        return True


@dataclass(frozen=True)
class FitResult:
    history: list[dict]  # one dict per epoch, as passed to on_epoch
    epochs: int  # epochs completed
    seconds: float  # training time
    val_accuracy: float  # 1 − MAPE on the validation split after the last epoch
    stopped: str  # "epochs" or "time_budget"
