"""Argument checks shared by every layer: one definition of "an integer", "a finite number" and of
the uniform error line ``KEY: RULE, but got VALUE.``.

Values in error lines are cut to :data:`MAX_VALUE_CHARS` characters, so a huge or recursive value
(a YAML alias bomb, a long list) gives a line a person can read.
"""

from __future__ import annotations

import math
import typing

import numpy as np

__all__ = ["MAX_VALUE_CHARS", "is_int", "is_number", "is_finite", "shown", "fail", "check_int"]

MAX_VALUE_CHARS = 120  # of a value's repr in an error line


def is_int(value: object) -> bool:
    """An integer, numpy's included, but not a bool (``True`` is an ``int`` in Python)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: object) -> bool:
    """An int or float (numpy's included), not a bool; NaN and ±inf count as numbers."""
    return is_int(value) or isinstance(value, (float, np.floating))


def is_finite(value: object) -> bool:
    return is_number(value) and math.isfinite(value)


def shown(value: object) -> str:
    """``repr(value)``, cut to :data:`MAX_VALUE_CHARS` characters."""
    text = repr(value)
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[: MAX_VALUE_CHARS - 25]}… ({len(text)} characters)"


def fail(key: str, rule: str, value: object) -> typing.NoReturn:
    raise ValueError(f"{key}: {rule}, but got {shown(value)}.")


def check_int(key: str, value: object, low: int = 1) -> int:
    """``value`` as an int if it is an integer ``>= low``; else one error line naming ``key``."""
    if not is_int(value) or value < low:
        fail(key, f"must be an integer >= {low}", value)
    return int(value)
