"""Chapter 1.3's formulas (1.7)–(1.10) evaluated exactly as printed: 1-based, one channel, Python
loops, reading only the pixels the formula names. They exist to show the errata of Prop 1.3.6–1.3.9
(an out-of-domain read raises ``IndexError`` naming the formula); :mod:`thesis_lib.vision` holds the
corrected operators.
"""

from __future__ import annotations

from typing import Callable

import torch

from .vision import require_float


def _reader(image: torch.Tensor, formula: str) -> Callable[[int, int], float]:
    if image.ndim != 2:
        raise ValueError(f"image.shape={tuple(image.shape)} is not allowed; the literal formulas take one "
                         f"channel (M, N)")
    M, N = image.shape
    values = image.tolist()

    def read(r: int, c: int) -> float:
        if not (1 <= r <= M and 1 <= c <= N):
            raise IndexError(f"{formula} reads (ψ0)_{{{r},{c}}}, outside the pixel domain "
                             f"{{1,...,{M}}}×{{1,...,{N}}}")
        return values[r - 1][c - 1]
    return read


def _stated_domain(image: torch.Tensor, p1: int, p2: int, out_shape: tuple[int, int] | None):
    M1, N1 = (image.shape[0] - p1 + 1, image.shape[1] - p2 + 1) if out_shape is None else out_shape
    return range(1, M1 + 1), range(1, N1 + 1)


def cross_correlate_as_written(image: torch.Tensor, kernel: torch.Tensor,
                               out_shape: tuple[int, int] | None = None) -> torch.Tensor:
    """(1.7) as printed: (ψ1)_ij = Σ_{m,n=1}^s (ψ0)_{m+i, n+j} k_mn over i ≤ M0 − s + 1, j ≤ N0 − s + 1.

    ``out_shape`` restricts (i, j) to a smaller range; an out-of-domain read raises ``IndexError``.
    """
    require_float("image", image)
    read = _reader(image, "(1.7)")
    s = kernel.shape[0]
    k = kernel.tolist()
    I, J = _stated_domain(image, s, s, out_shape)
    return torch.tensor([[sum(read(m + i, n + j) * k[m - 1][n - 1] for m in range(1, s + 1) for n in range(1, s + 1))
                          for j in J] for i in I], dtype=image.dtype)


def average_pool_as_written(image: torch.Tensor, p1: int, p2: int,
                            out_shape: tuple[int, int] | None = None) -> torch.Tensor:
    """(1.8) as printed: (ψ1)_ij = 1/(p1 p2) Σ_{(m,n)∈I} (ψ0)_{m+i, n+j}; no stride appears."""
    require_float("image", image)
    read = _reader(image, "(1.8)")
    I, J = _stated_domain(image, p1, p2, out_shape)
    return torch.tensor([[sum(read(m + i, n + j) for m in range(1, p1 + 1) for n in range(1, p2 + 1)) / (p1 * p2)
                          for j in J] for i in I], dtype=image.dtype)


def _extremum_as_written(image: torch.Tensor, p1: int, p2: int, reduce: Callable, formula: str) -> torch.Tensor:
    read = _reader(image, formula)
    I, J = _stated_domain(image, p1, p2, None)
    return torch.tensor([[reduce(read(k, l) for k in range(1, p1 + 1) for l in range(1, p2 + 1))
                          for j in J] for i in I], dtype=image.dtype)


def min_pool_as_written(image: torch.Tensor, p1: int, p2: int) -> torch.Tensor:
    """(1.9) as printed: (ψ1)_ij = min_{(k,l)∈I} (ψ0)_kl; (i, j) never enters."""
    return _extremum_as_written(image, p1, p2, min, "(1.9)")


def max_pool_as_written(image: torch.Tensor, p1: int, p2: int) -> torch.Tensor:
    """(1.10) as printed: (ψ1)_ij = max_{(k,l)∈I} (ψ0)_kl; (i, j) never enters."""
    return _extremum_as_written(image, p1, p2, max, "(1.10)")
