"""Physics of deformed tight-binding lattices: sampling (Eq. 5), Hamiltonian and mode areas
(Eqs. 1, 2), single-atom attacks and cached datasets. Plain numpy/torch, usable from a notebook."""

import importlib
import sys
import types

# Lazy (PEP 562): `import physics.checks` (the CLI's input checks) must not load torch.
_HOME = {
    "attack_angles": "attacks",
    "attacked_mode_areas": "attacks",
    "DatasetSpec": "dataset",
    "Split": "dataset",
    "generate": "dataset",
    "load": "dataset",
    "make_shard": "dataset",
    "shard_plan": "dataset",
    "resolve_device": "device",
    "bond_hoppings": "hamiltonian",
    "hamiltonian": "hamiltonian",
    "mode_areas": "hamiltonian",
    "spectrum": "hamiltonian",
    "check_displacements": "lattice",
    "deform": "lattice",
    "positions": "lattice",
    "rest_positions": "lattice",
    "sample_displacements": "lattice",
    "sample_structures": "lattice",
    "D4_ORDER": "symmetry",
    "d4_action": "symmetry",
    "d4_orbit": "symmetry",
}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(f"physics.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'physics' has no attribute {name!r}")


class _Physics(types.ModuleType):
    """``physics.hamiltonian`` is the function, as it always was, although a submodule has the same
    name: importing the submodule binds it on the package, and this property keeps the function."""

    @property
    def hamiltonian(self):
        return importlib.import_module("physics.hamiltonian").hamiltonian

    @hamiltonian.setter
    def hamiltonian(self, _submodule) -> None:
        pass  # the import system binding the submodule; ``sys.modules`` still holds it


sys.modules[__name__].__class__ = _Physics
