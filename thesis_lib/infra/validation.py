"""Argument checks shared by the library: each error names the parameter, its value and what is allowed."""

from __future__ import annotations

import math
from typing import Any


def positive_int(name: str, value: Any) -> int:
    """``value`` if it is an int ≥ 1 (not a bool), else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} is not allowed; it must be a positive integer")
    return value


def non_negative_int(name: str, value: Any) -> int:
    """``value`` if it is an int ≥ 0 (not a bool), else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}={value!r} is not allowed; it must be a non-negative integer")
    return value


def positive_number(name: str, value: Any, *, finite: bool = False) -> float:
    """``value`` as a float if it is a real number > 0 (and finite, if asked), else a ``ValueError``."""
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
            or (finite and math.isinf(value))):
        raise ValueError(f"{name}={value!r} is not allowed; it must be a positive {'finite ' if finite else ''}number")
    return float(value)


def choice(name: str, value: Any, allowed: tuple) -> Any:
    """``value`` if it is one of ``allowed``, else a ``ValueError`` listing them."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}")
    return value
