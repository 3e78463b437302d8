"""Tight-binding parameters of the paper's Hamiltonian (Methods): H_ij = t0·exp(−a·d_ij), d in
lattice periods, H_ii = ε. Kept apart from :mod:`physics.hamiltonian` so that the
dataset and config layers can name them without importing torch (the study driver never needs it).
"""

from __future__ import annotations

__all__ = ["DEFAULT_A", "DEFAULT_T0", "DEFAULT_ONSITE"]

DEFAULT_A = 1.1454
DEFAULT_T0 = 3.14e-2
DEFAULT_ONSITE = 1.0
