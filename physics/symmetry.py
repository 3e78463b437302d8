"""The eight symmetries of the square lattice (the dihedral group D4) acting on displacement fields.

The Hamiltonian of Eq. 1 depends only on the distances between atoms, and the open L×L lattice is
mapped onto itself by the rotations by 90° and the mirror images of the square. So every sorted
mode area w_m is exactly invariant when the whole displacement field is rotated or mirrored: the
*image* moves (atom (nx, ny) goes where the rotation sends it) **and** every displacement *vector*
(Δx, Δy) turns with it. Turning the image alone, or the vectors the other way, is not a symmetry
(the mode areas change by ~0.06–0.07 on this project's 16×16 data): tests/physics/test_symmetry.py
checks both.

Convention (the project's image convention: pixel ``[c, ny, nx]``, channel 0 is Δx): element
``g = 4·m + r`` first mirrors x when ``m = 1`` (the image flipped along nx, Δx → −Δx), then rotates
``r`` times, each time ``rot90`` of the image over (ny, nx) with (Δx, Δy) → (Δy, −Δx). Element 0 is
the identity. Works on numpy arrays and torch tensors of shape (..., 2, L, L).
"""

from __future__ import annotations

__all__ = ["D4_ORDER", "d4_action", "d4_orbit"]

D4_ORDER = 8


def _ops(field):
    """(rot90, flip, stack, negate) for numpy arrays or torch tensors."""
    try:
        import torch

        if isinstance(field, torch.Tensor):
            return (
                lambda a, k: torch.rot90(a, k, dims=(-2, -1)),
                lambda a: torch.flip(a, dims=(-1,)),
                lambda parts: torch.stack(parts, dim=-3),
            )
    except ImportError:  # numpy alone
        pass
    import numpy as np

    return (
        lambda a, k: np.rot90(a, k, axes=(-2, -1)),
        lambda a: np.flip(a, axis=-1),
        lambda parts: np.stack(parts, axis=-3),
    )


def d4_action(field, element: int):
    """The displacement field (..., 2, L, L) acted on by D4 element ``element`` in [0, 8)."""
    if not (isinstance(element, int) and 0 <= element < D4_ORDER):
        raise ValueError(f"element must be an integer in [0, {D4_ORDER}), but got {element!r}.")
    if field.ndim < 3 or field.shape[-3] != 2 or field.shape[-1] != field.shape[-2]:
        raise ValueError(
            f"field must have shape (..., 2, L, L) (Δx, Δy images), but got {tuple(field.shape)}."
        )
    rot90, flip, stack = _ops(field)
    mirror, turns = divmod(element, 4)
    dx, dy = field[..., 0, :, :], field[..., 1, :, :]
    if mirror:
        dx, dy = -flip(dx), flip(dy)
    for _ in range(turns):
        dx, dy = rot90(dy, 1), -rot90(dx, 1)
    return stack([dx, dy])


def d4_orbit(field):
    """All eight images of ``field``, stacked first: (8, ..., 2, L, L)."""
    images = [d4_action(field, g) for g in range(D4_ORDER)]
    try:
        import torch

        if isinstance(field, torch.Tensor):
            return torch.stack(images)
    except ImportError:
        pass
    import numpy as np

    return np.stack(images)
