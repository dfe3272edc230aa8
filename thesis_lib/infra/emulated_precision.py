"""CUDA's fp32 kernels emulated on the CPU, so that a check that holds only at full fp32 fails in CI.

On a GPU, cuDNN's convolutions (by default) and cuBLAS's matrix products (when allowed) round their
fp32 operands to TF32, 10 mantissa bits instead of 23, and accumulate in fp32. CI has no GPU, and
this CPU cannot run oneDNN's reduced-precision fp32 modes either (without AVX512-BF16 or AMX,
``torch.backends.mkldnn.*.fp32_precision = "bf16"/"tf32"`` leaves every result unchanged). So
:class:`EmulatedCudaFp32` rounds the operands itself: while it is active, the fp32 operands of every
convolution are rounded to TF32 when ``torch.backends.cudnn.conv.fp32_precision`` is ``"tf32"``, and
those of every matrix product (``@``, ``mm``, ``linear``, ``einsum``, ...) when
``torch.backends.cuda.matmul.fp32_precision`` is ``"tf32"`` (or ``"none"`` with
:func:`torch.get_float32_matmul_precision` below ``"highest"``): the CPU computes what CUDA would
compute under the same flags, up to the order of the sums. The gradients flow through unrounded
(straight-through): the emulation covers forward values.

``THESIS_EMULATE_CUDA_FP32=1`` turns it on when ``thesis_lib`` is imported (``make test-portable``
runs the library's tests and every chapter so). Under the book's policy (:mod:`.device`: full fp32)
nothing is rounded; with CUDA's default flags chapter 2.3's check of a convolution against the
thesis's formula fails, as it would on a GPU.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from .validation import choice

ENV = "THESIS_EMULATE_CUDA_FP32"
#: TF32 keeps 10 of fp32's 23 mantissa bits
DROPPED_BITS = 23 - 10

#: convolutions and the positions of their two multiplied operands (input, weight)
CONVOLUTIONS = {f: (0, 1) for f in (torch.conv1d, torch.conv2d, torch.conv3d, torch.conv_transpose1d,
                                     torch.conv_transpose2d, torch.conv_transpose3d, F.conv1d, F.conv2d,
                                     F.conv3d, F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)}
#: matrix products and the positions of their multiplied operands (``None``: every tensor argument)
MATMULS = {torch.matmul: (0, 1), torch.mm: (0, 1), torch.bmm: (0, 1), torch.Tensor.matmul: (0, 1),
           torch.Tensor.mm: (0, 1), torch.Tensor.bmm: (0, 1), torch.Tensor.__matmul__: (0, 1),
           torch.Tensor.__rmatmul__: (0, 1), F.linear: (0, 1), torch.addmm: (1, 2), torch.baddbmm: (1, 2),
           torch.Tensor.addmm: (1, 2), torch.tensordot: (0, 1), torch.einsum: None}


def round_to_tf32(x: torch.Tensor) -> torch.Tensor:
    """fp32 values rounded to the nearest TF32 value (ties to even), non-finite values kept; the
    gradient passes through unchanged."""
    bits = x.detach().view(torch.int32)
    half = (1 << (DROPPED_BITS - 1)) - 1
    rounded = ((bits + half + ((bits >> DROPPED_BITS) & 1)) & ~((1 << DROPPED_BITS) - 1)).view(torch.float32)
    rounded = torch.where(torch.isfinite(x.detach()), rounded, x.detach())
    return x + (rounded - x.detach()) if x.requires_grad else rounded


def conv_rounds() -> bool:
    """Whether CUDA's convolutions would round fp32 operands under the current flags."""
    return torch.backends.cudnn.conv.fp32_precision == "tf32"


def matmul_rounds() -> bool:
    """Whether CUDA's matrix products would round fp32 operands under the current flags."""
    precision = torch.backends.cuda.matmul.fp32_precision
    return precision == "tf32" or (precision == "none" and torch.get_float32_matmul_precision() != "highest")


def _round_operands(values, positions):
    def fp32(v):
        return isinstance(v, torch.Tensor) and v.dtype == torch.float32

    out = []
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple)) and positions is None:
            v = type(v)(round_to_tf32(t) if fp32(t) else t for t in v)
        elif fp32(v) and (positions is None or i in positions):
            v = round_to_tf32(v)
        out.append(v)
    return out


class EmulatedCudaFp32(TorchFunctionMode):
    """While active, convolutions and matrix products round their fp32 operands to TF32 wherever CUDA's
    flags say CUDA would (see the module's text)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in CONVOLUTIONS and conv_rounds():
            args = _round_operands(args, CONVOLUTIONS[func])
            kwargs = {k: round_to_tf32(v) if k in ("input", "weight") and isinstance(v, torch.Tensor)
                      and v.dtype == torch.float32 else v for k, v in kwargs.items()}
        elif func in MATMULS and matmul_rounds():
            args = _round_operands(args, MATMULS[func])
        return func(*args, **kwargs)


_active: list[EmulatedCudaFp32] = []


def enable_from_environment() -> bool:
    """Turn the emulation on for the rest of the process when ``THESIS_EMULATE_CUDA_FP32=1``; whether it is on."""
    if choice(ENV, os.environ.get(ENV, "0"), ("0", "1")) == "1" and not _active:
        mode = EmulatedCudaFp32()
        mode.__enter__()
        _active.append(mode)
    return bool(_active)
