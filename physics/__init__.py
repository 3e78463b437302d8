"""Physics of deformed tight-binding lattices: sampling (Eq. 5), Hamiltonian and mode areas
(Eqs. 1, 2), single-atom attacks and cached datasets. Plain numpy/torch, usable from a notebook."""

from physics.attacks import attack_angles, attacked_mode_areas
from physics.dataset import DatasetSpec, Split, generate, load, make_shard, shard_plan
from physics.device import resolve_device
from physics.hamiltonian import bond_hoppings, hamiltonian, mode_areas, spectrum
from physics.lattice import (
    check_displacements,
    deform,
    positions,
    rest_positions,
    sample_displacements,
    sample_structures,
)

__all__ = [
    "DatasetSpec",
    "Split",
    "attack_angles",
    "attacked_mode_areas",
    "bond_hoppings",
    "check_displacements",
    "deform",
    "generate",
    "hamiltonian",
    "load",
    "make_shard",
    "mode_areas",
    "positions",
    "resolve_device",
    "rest_positions",
    "sample_displacements",
    "sample_structures",
    "shard_plan",
    "spectrum",
]
