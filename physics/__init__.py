"""Physics of deformed tight-binding lattices: sampling (Eq. 5), Hamiltonian and mode areas
(Eqs. 1, 2), single-atom attacks and cached datasets. Plain numpy/torch, usable from a notebook."""

from physics.attacks import attack_angles, attacked_mode_areas
from physics.dataset import DatasetSpec, generate, load, make_shard, shard_plan
from physics.device import resolve_device
from physics.hamiltonian import hamiltonian, mode_areas, spectrum
from physics.lattice import check_displacements, positions, rest_positions, sample_displacements

__all__ = [
    "DatasetSpec",
    "attack_angles",
    "attacked_mode_areas",
    "check_displacements",
    "generate",
    "hamiltonian",
    "load",
    "make_shard",
    "mode_areas",
    "positions",
    "resolve_device",
    "rest_positions",
    "sample_displacements",
    "shard_plan",
    "spectrum",
]
