"""The trial's configuration: frozen dataclasses, one comment per field.

Flattened to ``"section.field"`` keys for Optuna, Tune and ``mlflow.log_params``;
:func:`from_flat` rejects unknown keys by name. The study layer (``study/config.py``) wraps this
with search, resources and tracking settings; this module knows nothing of Ray, Optuna or MLflow.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field

from physics.checks import fail, is_finite, is_int
from physics.dataset import DatasetSpec

__all__ = [
    "NetConfig",
    "TrainConfig",
    "InverseConfig",
    "ScoreConfig",
    "TrialConfig",
    "to_flat",
    "from_flat",
    "max_stages",
    "inverse_phase_epochs",
]

INVERSE_MODES = ("surrogate", "physics", "hybrid")
SYMMETRIES = ("none", "augment", "average", "both")


def max_stages(size: int) -> int:
    """Most 2×2 pooling stages a size×size image allows (each halves the side, floor, down to 1)."""
    return int(math.floor(math.log2(size)))


MAX_INT = 2**63 - 1  # any integer setting: what numpy, torch and SQLite hold
MAX_SIZE = 64  # largest lattice side: the all-pairs Hamiltonian grows as size⁴
MAX_STRUCTURES = 10_000_000  # per split: 10⁷ structures of 16×16 are ~40 GB of float64
DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")  # torch device names a trial accepts


@dataclass(frozen=True)
class NetConfig:
    stages: int = 3  # conv(3×3)–ReLU–maxpool(2×2) stages
    filters: tuple[int, ...] = (256, 512, 1024)  # filters per stage (len == stages)
    fc: int = 2048  # width of the fully connected layer
    dropout: float = 0.5  # dropout on the FC layer (paper: forward 0.5)
    l2: float = 0.0  # L2 scale, TensorFlow convention: scale·Σw²/2 (paper: inverse 0.05)
    bonds: bool = False  # forward only: add the 4 short-bond hopping changes (not the paper)
    # forward only, the lattice's D4 symmetry (not the paper): none | augment (train on a random
    # image of each structure) | average (predict the mean over its 8 images: exactly invariant)
    # | both (augment in training, average when predicting: invariant at augment's training cost)
    symmetry: str = "none"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # passes over the training split
    batch_size: int = 32  # mini-batch (paper: 10)
    lr: float = 1e-3  # Adam initial learning rate
    lr_decay: float = 0.9  # learning rate multiplied by this after every epoch
    time_budget_s: float = 0.0  # stop after this many seconds (0 = epochs only)


@dataclass(frozen=True)
class InverseConfig:
    mode: str = "surrogate"  # surrogate | physics | hybrid (see trainables.training)
    bound: bool = False  # squash outputs into the training range of displacements
    physics_epochs: int = 1  # hybrid/physics: epochs through the true Hamiltonian
    physics_broadening: float = 1e-2  # broadening of eigh's 1/(λi − λj), in K = (H − ε)/t0 units
    physics_lr: float = 3e-4  # Adam lr of the physics epochs (fresh moments; decays by lr_decay)
    # After the net (not the paper): Adam steps on each design's own displacements through the
    # true Hamiltonian, minimising its MAPE (0 = the net's designs as they are)
    refine_steps: int = 0
    refine_lr: float = 3e-3  # Adam lr of those steps, lattice units


def inverse_phase_epochs(train: TrainConfig, inverse: InverseConfig) -> tuple[int, int]:
    """(surrogate epochs, physics epochs) of the inverse fit: 'surrogate' runs ``train.epochs``
    through the frozen forward net, 'physics' ``inverse.physics_epochs`` through the Hamiltonian,
    'hybrid' both in that order. The one place this arithmetic lives."""
    surrogate = train.epochs if inverse.mode != "physics" else 0
    physics = inverse.physics_epochs if inverse.mode != "surrogate" else 0
    return surrogate, physics


@dataclass(frozen=True)
class ScoreConfig:
    n_generated: int = 256  # test targets turned into structures and scored
    attack_strength: float = 0.05  # ρa of single-atom attacks, lattice units
    n_attacked: int = 8  # seed/generated pairs attacked for robustness and hubs
    rdf_bins: int = 80  # linear baseline: pair-distance histogram bins
    rdf_rmax: float = 4.0  # linear baseline: histogram range
    ridge: float = 1e-3  # linear baseline: L2 strength
    n_boot: int = 200  # bootstrap resamples of the α and gain intervals (0 = no intervals)
    # alpha_hill and tail_xi: the top share of the designs' Δr values, the same in every trial
    hill_share: float = 0.01


@dataclass(frozen=True)
class TrialConfig:
    data: DatasetSpec = field(default_factory=DatasetSpec)  # the dataset: physics.DatasetSpec
    forward: NetConfig = field(default_factory=NetConfig)
    inverse_net: NetConfig = field(default_factory=lambda: NetConfig(dropout=0.0, l2=0.05))
    forward_train: TrainConfig = field(default_factory=TrainConfig)
    inverse_train: TrainConfig = field(default_factory=TrainConfig)
    inverse: InverseConfig = field(default_factory=InverseConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    seed: int = 0  # trial seed: weights, batches, dropout, attacks
    device: str = "auto"  # auto | cpu | cuda[:k]
    threads: int = 0  # torch CPU threads (0 = leave torch's default)

    def __post_init__(self) -> None:
        validate(self)

    def phase_epochs(self) -> dict[str, int]:
        """Epochs a trial runs and reports per phase: ``forward``, then ``inverse`` (its surrogate
        and physics epochs together, :func:`inverse_phase_epochs`)."""
        inverse = sum(inverse_phase_epochs(self.inverse_train, self.inverse))
        return {"forward": self.forward_train.epochs, "inverse": inverse}

    def total_epochs(self) -> int:
        """Epochs reported by a trial: forward, then both inverse phases."""
        return sum(self.phase_epochs().values())


def _check_net(prefix: str, net: NetConfig, size: int) -> None:
    top = max_stages(size)
    if not is_int(net.stages) or not 1 <= net.stages <= top:
        rule = f"must be an integer in [1, {top}] for a {size}×{size} lattice"
        fail(f"{prefix}.stages", rule, net.stages)
    if len(net.filters) != net.stages:
        fail(f"{prefix}.filters", f"needs one entry per stage ({net.stages})", net.filters)
    if any((not is_int(f)) or f <= 0 for f in net.filters):
        fail(f"{prefix}.filters", "every entry must be a positive integer", net.filters)
    if not is_int(net.fc) or net.fc <= 0:
        fail(f"{prefix}.fc", "must be a positive integer", net.fc)
    if not (is_finite(net.dropout) and 0.0 <= net.dropout < 1.0):
        fail(f"{prefix}.dropout", "must be in [0, 1)", net.dropout)
    if not (is_finite(net.l2) and net.l2 >= 0):
        fail(f"{prefix}.l2", "must be a finite number >= 0", net.l2)
    if not isinstance(net.bonds, bool):
        fail(f"{prefix}.bonds", "must be true or false", net.bonds)
    if net.symmetry not in SYMMETRIES:
        fail(f"{prefix}.symmetry", f"must be one of {SYMMETRIES}", net.symmetry)


def _check_train(prefix: str, train: TrainConfig) -> None:
    if not is_int(train.epochs) or train.epochs < 1:
        fail(f"{prefix}.epochs", "must be an integer >= 1", train.epochs)
    if not is_int(train.batch_size) or train.batch_size < 1:
        fail(f"{prefix}.batch_size", "must be an integer >= 1", train.batch_size)
    if not (is_finite(train.lr) and train.lr > 0):
        fail(f"{prefix}.lr", "must be a finite number > 0", train.lr)
    if not (is_finite(train.lr_decay) and 0 < train.lr_decay <= 1):
        fail(f"{prefix}.lr_decay", "must be in (0, 1]", train.lr_decay)
    if not (is_finite(train.time_budget_s) and train.time_budget_s >= 0):
        fail(f"{prefix}.time_budget_s", "must be >= 0", train.time_budget_s)


def validate(cfg: TrialConfig) -> None:
    """Raise ``ValueError`` naming the first bad field, its rule and its value."""
    d = cfg.data
    for name in ("rho_max", "sigma_max"):
        value = getattr(d, name)
        if not (is_finite(value) and value >= 0):
            fail(f"data.{name}", "must be a finite number >= 0", value)
    if not (is_finite(d.a) and d.a > 0):
        fail("data.a", "must be a finite number > 0", d.a)
    if not (is_finite(d.t0) and d.t0 != 0):
        fail("data.t0", "must be a finite non-zero number", d.t0)
    if not is_finite(d.onsite):
        fail("data.onsite", "must be a finite number", d.onsite)
    for name in ("n_train", "n_val", "n_test"):
        if getattr(d, name) > MAX_STRUCTURES:
            rule = f"must be <= {MAX_STRUCTURES:.0e} structures (the dataset is held in memory)"
            fail(f"data.{name}", rule, getattr(d, name))
    if d.size > MAX_SIZE:
        rule = f"must be <= {MAX_SIZE} (N = size² atoms; one {MAX_SIZE}² Hamiltonian is 128 MiB)"
        fail("data.size", rule, d.size)
    _check_net("forward", cfg.forward, d.size)
    _check_net("inverse_net", cfg.inverse_net, d.size)
    if cfg.inverse_net.bonds:
        fail("inverse_net.bonds", "must be false (bond channels are a forward-net input)", True)
    if cfg.inverse_net.symmetry != "none":
        rule = "must be none (the symmetry is the forward net's: designs need not be invariant)"
        fail("inverse_net.symmetry", rule, cfg.inverse_net.symmetry)
    _check_train("forward_train", cfg.forward_train)
    _check_train("inverse_train", cfg.inverse_train)
    if cfg.inverse.mode not in INVERSE_MODES:
        fail("inverse.mode", f"must be one of {INVERSE_MODES}", cfg.inverse.mode)
    if not is_int(cfg.inverse.physics_epochs) or cfg.inverse.physics_epochs < 0:
        fail("inverse.physics_epochs", "must be an integer >= 0", cfg.inverse.physics_epochs)
    if cfg.inverse.mode == "physics" and cfg.inverse.physics_epochs < 1:
        rule = "must be >= 1 when inverse.mode='physics' (its only training)"
        fail("inverse.physics_epochs", rule, cfg.inverse.physics_epochs)
    broadening = cfg.inverse.physics_broadening
    if not (is_finite(broadening) and broadening >= 0):
        fail("inverse.physics_broadening", "must be a finite number >= 0", broadening)
    physics_lr = cfg.inverse.physics_lr
    if not (is_finite(physics_lr) and physics_lr > 0):
        fail("inverse.physics_lr", "must be a finite number > 0", physics_lr)
    if not is_int(cfg.inverse.refine_steps) or cfg.inverse.refine_steps < 0:
        fail("inverse.refine_steps", "must be an integer >= 0", cfg.inverse.refine_steps)
    if not (is_finite(cfg.inverse.refine_lr) and cfg.inverse.refine_lr > 0):
        fail("inverse.refine_lr", "must be a finite number > 0", cfg.inverse.refine_lr)
    if not isinstance(cfg.inverse.bound, bool):
        fail("inverse.bound", "must be true or false", cfg.inverse.bound)
    s = cfg.score
    if not is_int(s.n_generated) or not 1 <= s.n_generated:
        fail("score.n_generated", "must be an integer >= 1", s.n_generated)
    if s.n_generated > d.n_test:
        fail("score.n_generated", f"must be <= data.n_test ({d.n_test})", s.n_generated)
    if not is_int(s.n_attacked) or not 1 <= s.n_attacked <= s.n_generated:
        rule = f"must be an integer in [1, score.n_generated={s.n_generated}]"
        fail("score.n_attacked", rule, s.n_attacked)
    if not (is_finite(s.attack_strength) and s.attack_strength > 0):
        fail("score.attack_strength", "must be a finite number > 0", s.attack_strength)
    if not (is_finite(s.ridge) and s.ridge >= 0):
        fail("score.ridge", "must be a finite number >= 0", s.ridge)
    if not (is_int(s.rdf_bins) and s.rdf_bins >= 1):
        fail("score.rdf_bins", "must be an integer >= 1", s.rdf_bins)
    if not (is_int(s.n_boot) and s.n_boot >= 0):
        fail("score.n_boot", "must be an integer >= 0 (0 = no intervals)", s.n_boot)
    if not (is_finite(s.rdf_rmax) and s.rdf_rmax > 0):
        fail("score.rdf_rmax", "must be a finite number > 0", s.rdf_rmax)
    if not (is_finite(s.hill_share) and 0 < s.hill_share <= 0.5):
        fail("score.hill_share", "must be a share in (0, 0.5]", s.hill_share)
    if not is_int(cfg.seed) or cfg.seed < 0:
        fail("seed", "must be a non-negative integer", cfg.seed)
    if not (isinstance(cfg.device, str) and DEVICE.fullmatch(cfg.device)):
        fail("device", "must be auto, cpu, cuda or cuda:K", cfg.device)
    if not is_int(cfg.threads) or cfg.threads < 0:
        fail("threads", "must be an integer >= 0", cfg.threads)


def to_flat(obj: object, prefix: str = "") -> dict[str, object]:
    """``{"forward.filters": (256, 512, 1024), ...}`` for any nested config dataclass."""
    flat: dict[str, object] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            flat.update(to_flat(value, key + "."))
        else:
            flat[key] = value
    return flat


def _coerce(key: str, value: object, hint: object) -> object:
    """Bring YAML/CLI/Optuna values to the field's declared type, or fail naming the key."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        (inner, *_) = typing.get_args(hint)
        if isinstance(value, str):
            stripped = value.translate(str.maketrans("", "", "[]()"))
            value = [v.strip() for v in stripped.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            fail(key, f"must be a list of {inner.__name__} values", value)
        return tuple(_coerce(key, v, inner) for v in value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        fail(key, "must be true or false", value)
    if hint is int:
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value)
            except ValueError:
                pass
        if number is None:
            fail(key, "must be an integer", value)
        if abs(number) > MAX_INT:
            fail(key, f"must be an integer of at most {MAX_INT} in size", value)
        return number
    if hint is float:
        if isinstance(value, bool):
            fail(key, "must be a number", value)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        fail(key, "must be a number", value)
    if hint is str:
        if not isinstance(value, str):
            fail(key, "must be a string", value)
        return value
    return value


def _build(cls: type, flat: dict[str, object], prefix: str, used: set[str]) -> object:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            sub = {k: v for k, v in flat.items() if k.startswith(key + ".")}
            if sub:
                has_factory = f.default_factory is not dataclasses.MISSING
                default = f.default_factory() if has_factory else hint()
                base = to_flat(default, key + ".")
                base.update(sub)
                try:
                    kwargs[f.name] = _build(hint, base, key + ".", used)
                except ValueError as err:  # a section's own checks (DatasetSpec) name its field
                    if str(err).startswith(key + "."):
                        raise
                    raise ValueError(f"{key}.{err}") from None
                used.update(sub)
        elif key in flat:
            kwargs[f.name] = _coerce(key, flat[key], hint)
            used.add(key)
    return cls(**kwargs)


def from_flat(flat: dict[str, object], cls: type = TrialConfig) -> object:
    """Inverse of :func:`to_flat`; missing keys take defaults, unknown keys raise by name."""
    known = set(to_flat(cls()))
    unknown = sorted(set(flat) - known)
    if unknown:
        sections = sorted({k.split(".")[0] for k in known})
        fail(unknown[0], f"is not a known key (known sections: {sections})", flat[unknown[0]])
    return _build(cls, dict(flat), "", set())
