"""Fixtures of the trainables tests (helpers live in tiny_trial.py)."""

from __future__ import annotations

import pytest
from tiny_trial import make_split

import physics


@pytest.fixture(scope="session")
def tiny_data() -> dict[str, physics.Split]:
    """train/val/test of 200/40/40 structures; arrays read-only, as Tune's with_parameters does."""
    data = {"train": make_split(200, 1), "val": make_split(40, 2), "test": make_split(40, 3)}
    for arrays in data.values():
        for array in arrays:
            array.setflags(write=False)
    return data
