"""How far two floating-point computations of the same sum may differ.

Two orders of adding the same ``n`` terms (a neuron-by-neuron loop and a matrix product, our
convolution and ``F.conv2d``, one CPU's kernels and another's) round differently. Each order's
error is at most ``γ_n · Σ|x_i|`` with ``γ_n = n·u / (1 - n·u)`` and ``u = eps/2`` the unit
round-off (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1 and §4.2), so
the two results differ by at most about ``n · eps · Σ|x_i|``. The checks of the book compare
with that bound instead of with exact equality or ``torch.allclose``'s fixed ``atol=1e-8``.
"""

from __future__ import annotations

import torch

from .validation import positive_int


def rounding_tolerance(dtype: torch.dtype, terms: int, scale: float) -> float:
    """Bound on the difference of two summation orders of ``terms`` terms with ``Σ|x_i| ≤ scale``.

    ``2 γ_n Σ|x_i|`` for ``n = terms`` (both orders' errors added), in the precision of ``dtype``.
    """
    if not dtype.is_floating_point:
        raise ValueError(f"dtype={dtype} is not allowed; it must be a floating-point dtype")
    positive_int("terms", terms)
    if not scale >= 0:
        raise ValueError(f"scale={scale!r} is not allowed; it must be a non-negative number")
    u = torch.finfo(dtype).eps / 2
    if terms * u >= 1:
        raise ValueError(f"terms={terms} is not allowed for {dtype}: n·u must stay below 1")
    return 2 * terms * u / (1 - terms * u) * float(scale)


def assert_sums_close(actual: torch.Tensor, expected: torch.Tensor, *, terms: int, scale: float) -> None:
    """``actual`` and ``expected`` are the same sums of ``terms`` terms (``Σ|x_i| ≤ scale``), in two orders."""
    atol = rounding_tolerance(actual.dtype, terms, scale)
    torch.testing.assert_close(actual, expected, rtol=0.0, atol=atol)
