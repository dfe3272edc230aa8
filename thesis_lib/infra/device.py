"""Where the book computes and at what precision: one policy for the CPU, CUDA and Apple's MPS.

* **Which device.** CUDA if present, else MPS, else the CPU; ``THESIS_DEVICE`` chooses among the
  devices present, and naming an absent one is an error at once that lists what is there.
* **Which budget.** The budget follows the device a model is trained on (:func:`active_budget`):
  ``full`` on CUDA, ``quick`` elsewhere; ``THESIS_BUDGET`` overrides.
* **Precision** (:func:`apply_precision_policy`, applied when ``thesis_lib`` is imported): full fp32
  everywhere. cuBLAS and cuDNN are told not to use TF32 (cuDNN's convolutions default to it, which
  rounds their inputs to 10 mantissa bits); cuDNN runs its deterministic algorithms and does not
  autotune. Why: the book checks exact statements (a convolution against the thesis's formula, a
  model against its manifest) at float32 tolerances, and its models are small MLPs whose steps on a
  GPU are bound by kernel launches, not by arithmetic, so TF32 would buy little and cost every check
  a policy-specific tolerance. ``make test-portable`` runs the checks under an emulation of CUDA's
  fp32 kernels as these flags configure them (:mod:`thesis_lib.infra.emulated_precision`).
* **float64** where the device has it (:func:`wide_dtype`); MPS has none, so sums accumulate in fp32.
* a model's device (:func:`model_device`) and uint8 pixels as floats in [0, 1] (:func:`as_float`).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch
from torch import nn

from .validation import choice

DEVICE_TYPES = ("cpu", "cuda", "mps")
BUDGETS = ("quick", "full")

#: the flags :func:`apply_precision_policy` sets, as paths below ``torch.backends`` (PyTorch's
#: ``fp32_precision`` API: "ieee" is full fp32)
PRECISION_POLICY = {"cuda.matmul.fp32_precision": "ieee", "cudnn.conv.fp32_precision": "ieee",
                    "cudnn.rnn.fp32_precision": "ieee", "cudnn.deterministic": True, "cudnn.benchmark": False}


def available_devices() -> tuple[str, ...]:
    """The device types this machine has, in the order :func:`default_device` prefers them last to first."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return tuple(found)


def resolve_device(device: torch.device | str | None = None, *, name: str = "device") -> torch.device:
    """``device`` as a ``torch.device`` if this machine has it (``None``: :func:`default_device`), else a
    ``ValueError`` naming ``name`` and the devices present."""
    if device is None:
        return default_device()
    if isinstance(device, str):
        choice(name, device.split(":")[0], DEVICE_TYPES)
    device = torch.device(device)
    choice(name, device.type, DEVICE_TYPES)
    present = available_devices()
    if device.type not in present:
        raise ValueError(f"{name}={device.type!r} is not available on this machine; available: "
                         f"{', '.join(map(repr, present))}")
    return device


def default_device() -> torch.device:
    """``THESIS_DEVICE`` if set (checked against the devices present), else CUDA, else MPS, else the CPU."""
    forced = os.environ.get("THESIS_DEVICE")
    if forced:
        return resolve_device(forced, name="THESIS_DEVICE")
    present = available_devices()
    return torch.device("cuda" if "cuda" in present else "mps" if "mps" in present else "cpu")


def active_budget(device: torch.device | str | None = None) -> str:
    """``THESIS_BUDGET`` if set, else ``full`` when training on CUDA and ``quick`` elsewhere
    (``device``: where the model trains, default :func:`default_device`)."""
    forced = os.environ.get("THESIS_BUDGET")
    if forced:
        choice("THESIS_BUDGET", forced, BUDGETS)
        return forced
    return "full" if (torch.device(device) if device is not None else default_device()).type == "cuda" else "quick"


def _flag(path: str) -> tuple[object, str]:
    """The object under ``torch.backends`` and the attribute that a key of :data:`PRECISION_POLICY` names."""
    *parents, attribute = path.split(".")
    owner = torch.backends
    for name in parents:
        owner = getattr(owner, name)
    return owner, attribute


def apply_precision_policy() -> None:
    """Set :data:`PRECISION_POLICY`: full fp32 in cuBLAS and cuDNN, cuDNN deterministic, no autotuning.
    The flags are global and harmless without CUDA (the CPU's kernels do not read them)."""
    for path, value in PRECISION_POLICY.items():
        setattr(*_flag(path), value)


def precision_in_force() -> dict:
    """The flags of :data:`PRECISION_POLICY` as PyTorch has them now."""
    return {path: getattr(*_flag(path)) for path in PRECISION_POLICY}


def has_float64(device: torch.device | str) -> bool:
    """Whether ``device`` computes in float64 (Apple's MPS does not)."""
    return torch.device(device).type != "mps"


def wide_dtype(device: torch.device | str) -> torch.dtype:
    """The dtype for sums over many values on ``device``: float64 where it exists, else float32."""
    return torch.float64 if has_float64(device) else torch.float32


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s parameters (the CPU for a model without any)."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def as_float(batch: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 pixels (0..255) as ``dtype`` values in [0, 1] (``x / 255``); other tensors as ``dtype``."""
    out = batch.to(dtype)
    return out.div_(255) if batch.dtype == torch.uint8 else out


def device_rng_state(device: torch.device) -> torch.Tensor | None:
    """The random state of ``device``'s default generator (CUDA, MPS), ``None`` for the CPU (whose
    state is ``torch.get_rng_state()``)."""
    if device.type == "cuda":
        return torch.cuda.get_rng_state(device)
    if device.type == "mps":
        return torch.mps.get_rng_state()
    return None


def set_device_rng_state(device: torch.device, state: torch.Tensor) -> None:
    """Restore what :func:`device_rng_state` returned for a device of the same type."""
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    elif device.type == "mps":
        torch.mps.set_rng_state(state)


@contextlib.contextmanager
def fork_rng(*devices: torch.device | str) -> Iterator[None]:
    """``torch.random.fork_rng`` over the CPU and the accelerators among ``devices`` (named, so that a
    host with several GPUs forks just those and does not warn): their random states are restored on exit."""
    devices = [torch.device(d) for d in devices]
    cuda = sorted({d.index or 0 for d in devices if d.type == "cuda"})
    with torch.random.fork_rng(devices=cuda, device_type="cuda"):
        mps = torch.mps.get_rng_state() if any(d.type == "mps" for d in devices) else None
        try:
            yield
        finally:
            if mps is not None:
                torch.mps.set_rng_state(mps)
