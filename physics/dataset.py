"""Datasets of (displacements, sorted mode areas) in shards, cached on disk by content hash.

A dataset is fixed by its :class:`DatasetSpec`. Each split is cut into shards of ``shard_size``
structures; shard ``k`` of split ``s`` is drawn from ``SeedSequence(seed, spawn_key=(s, k))``, so its
bytes depend only on the spec and never on how many workers produced it, and no two shards (or
splits) share a seed.

Shard functions are plain physics; callers fan them out (the study uses Ray tasks) through the
``map_shards`` argument of :func:`generate`.

Cache layout under ``root/<spec hash>/``: ``spec.json`` and, per shard, ``<split>-<k>.npz`` with a
``.sha256`` sidecar written after the shard itself. A shard whose checksum, sidecar or arrays do not
check out is regenerated, never used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from physics.checks import check_int
from physics.constants import DEFAULT_A, DEFAULT_ONSITE, DEFAULT_T0
from physics.lattice import sample_structures

__all__ = [
    "SPLITS",
    "DatasetSpec",
    "Split",
    "ShardTask",
    "shard_plan",
    "make_shard",
    "generate",
    "load",
    "dataset_dir",
    "write_checked",
    "read_checked",
]

SPLITS = ("train", "val", "test")
FORMAT_VERSION = 2  # bump when the bytes a spec produces change (2: shards keep ρ and σ)


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that determines a dataset's bytes."""

    size: int = 16  # lattice side L, N = L² atoms
    rho_max: float = 0.6  # collective displacement amplitude (Eq. 5)
    sigma_max: float = 0.6  # individual displacement amplitude (Eq. 5)
    n_train: int = 20000  # structures per split (paper: 2e4 / 1e4 / 1e4)
    n_val: int = 10000
    n_test: int = 10000
    seed: int = 0  # root of every shard's SeedSequence
    shard_size: int = 256  # structures per shard (one Ray task)
    a: float = DEFAULT_A  # hopping decay constant
    t0: float = DEFAULT_T0  # hopping prefactor
    onsite: float = DEFAULT_ONSITE  # on-site energy ε

    def __post_init__(self) -> None:
        for name in ("n_train", "n_val", "n_test", "shard_size"):
            check_int(name, getattr(self, name), 1)
        check_int("size", self.size, 2)
        check_int("seed", self.seed, 0)

    def count(self, split: str) -> int:
        return {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]

    def key(self) -> str:
        """Content hash: equal specs share a cache entry, any change makes a new one."""
        payload = json.dumps({"format": FORMAT_VERSION, **dataclasses.asdict(self)}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


class Split(NamedTuple):
    """One split of a dataset; indexable as ``split[0]`` (displacements), ``split[1]`` (mode areas)."""

    displacements: np.ndarray  # (n, 2, L, L) float64, Eq. 5
    mode_areas: np.ndarray  # (n, N) float64, each row sorted ascending
    disorder: np.ndarray  # (n, 2) float64: the (ρ, σ) each structure was drawn with


@dataclass(frozen=True)
class ShardTask:
    split: str
    index: int  # shard number within its split
    count: int  # structures in this shard

    @property
    def name(self) -> str:
        return f"{self.split}-{self.index:05d}"

    def seed(self, spec: DatasetSpec) -> np.random.SeedSequence:
        return np.random.SeedSequence(spec.seed, spawn_key=(SPLITS.index(self.split), self.index))


def shard_plan(spec: DatasetSpec) -> list[ShardTask]:
    tasks = []
    for split in SPLITS:
        total = spec.count(split)
        for index, start in enumerate(range(0, total, spec.shard_size)):
            tasks.append(ShardTask(split, index, min(spec.shard_size, total - start)))
    return tasks


def make_shard(spec: DatasetSpec, task: ShardTask, *, device: str | None = None) -> dict:
    """Draw and solve one shard: ``displacements`` (n, 2, L, L), ``mode_areas`` (n, N) and
    ``disorder`` (n, 2) = (ρ, σ) of each structure, float64."""
    # torch loads here, where shards are solved, and not in the study driver
    import torch

    from physics.hamiltonian import mode_areas

    disp, disorder = sample_structures(
        task.count,
        seed=task.seed(spec),
        size=spec.size,
        rho_max=spec.rho_max,
        sigma_max=spec.sigma_max,
    )
    # One thread wherever a shard is solved (a Ray worker, a notebook): LAPACK's results may differ
    # in the last bits with its thread count, and a shard's bytes must not.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        areas = mode_areas(disp, a=spec.a, t0=spec.t0, onsite=spec.onsite, device=device)
    finally:
        torch.set_num_threads(threads)
    return {"displacements": disp, "mode_areas": areas, "disorder": disorder}


def dataset_dir(spec: DatasetSpec, root: str | os.PathLike) -> Path:
    return Path(root) / spec.key()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, write: Callable[[object], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_checked(path: Path, data: bytes) -> None:
    """Write ``data`` atomically with a SHA-256 sidecar (``path.sha256``), as shards are."""
    _atomic_write(path, lambda fh: fh.write(data))
    digest = _sha256(path).encode()
    _atomic_write(path.with_suffix(".sha256"), lambda fh: fh.write(digest))


def read_checked(path: Path) -> bytes | None:
    """The bytes of a file written by :func:`write_checked`, or None when it is missing or does
    not match its checksum (half-written, edited or damaged)."""
    sidecar = path.with_suffix(".sha256")
    if not (path.is_file() and sidecar.is_file()) or sidecar.read_text().strip() != _sha256(path):
        return None
    return path.read_bytes()


def _shard_path(directory: Path, task: ShardTask) -> Path:
    return directory / f"{task.name}.npz"


def _save_shard(directory: Path, task: ShardTask, arrays: dict) -> None:
    path = _shard_path(directory, task)
    _atomic_write(path, lambda fh: np.savez(fh, **arrays))
    digest = _sha256(path).encode()
    _atomic_write(path.with_suffix(".sha256"), lambda fh: fh.write(digest))


def _shard_ok(spec: DatasetSpec, directory: Path, task: ShardTask) -> bool:
    """True only if the shard exists, matches its checksum and has the expected arrays."""
    path, sidecar = (
        _shard_path(directory, task),
        _shard_path(directory, task).with_suffix(".sha256"),
    )
    if not (path.is_file() and sidecar.is_file()):
        return False
    if sidecar.read_text().strip() != _sha256(path):
        return False
    try:
        with np.load(path) as data:
            shapes = {
                "displacements": (task.count, 2, spec.size, spec.size),
                "mode_areas": (task.count, spec.size**2),
                "disorder": (task.count, 2),
            }
            return all(data[name].shape == shape for name, shape in shapes.items())
    except (OSError, ValueError, KeyError):
        return False


def _local_map(spec: DatasetSpec, tasks: Iterable[ShardTask]) -> Iterator[tuple[ShardTask, dict]]:
    for task in tasks:
        yield task, make_shard(spec, task)


MapShards = Callable[[DatasetSpec, list[ShardTask]], Iterable[tuple[ShardTask, dict]]]


def generate(
    spec: DatasetSpec,
    root: str | os.PathLike,
    *,
    map_shards: MapShards | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Make sure every shard of ``spec`` is in the cache under ``root``; return its directory.

    ``map_shards(spec, tasks)`` yields ``(task, arrays)`` in any order; the default runs in-process.
    Only missing or corrupt shards are generated. ``progress`` receives one line per finished shard
    (default: stderr).
    """
    directory = dataset_dir(spec, root)
    directory.mkdir(parents=True, exist_ok=True)
    spec_text = json.dumps(dataclasses.asdict(spec), indent=2, sort_keys=True).encode()
    _atomic_write(directory / "spec.json", lambda fh: fh.write(spec_text))
    todo = [task for task in shard_plan(spec) if not _shard_ok(spec, directory, task)]
    report = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    total = sum(task.count for task in todo)
    done, start = 0, time.perf_counter()
    for task, arrays in (map_shards or _local_map)(spec, todo):
        _save_shard(directory, task, arrays)
        done += task.count
        rate = done / max(time.perf_counter() - start, 1e-9)
        report(f"[data] {done}/{total} structures ({rate:.0f}/s), shard {task.name}")
    return directory


def load(spec: DatasetSpec, root: str | os.PathLike, split: str) -> Split:
    """Concatenated :class:`Split` (displacements, mode_areas, disorder) of one split; every shard
    is verified first."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, but got split={split!r}.")
    directory = dataset_dir(spec, root)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in Split._fields}
    for task in shard_plan(spec):
        if task.split != split:
            continue
        if not _shard_ok(spec, directory, task):
            raise FileNotFoundError(
                f"shard {task.name} of dataset {spec.key()} is missing or corrupt under {directory}; "
                "run generate() first."
            )
        with np.load(_shard_path(directory, task)) as data:
            for name, arrays in parts.items():
                arrays.append(data[name])
    return Split(*(np.concatenate(arrays) for arrays in parts.values()))
