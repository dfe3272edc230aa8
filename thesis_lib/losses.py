"""Unsupervised image losses (Def 2.2.1, Ex 2.2.2, Remark 2.2.3) and the training objectives built on them.

An unsupervised loss compares an image ``psi`` with its reconstruction ``f(psi)``; arguments come
in the thesis's order ``(image, reconstruction)``. The first dimension is the batch; every other
dimension is a pixel (or channel) of one image, so ``[B, 28, 28]`` and ``[B, 784]`` give the same
value. Per image the four losses are

* ``mse_sum``:  sum_ij (psi_ij - f(psi)_ij)^2  -- Ex 2.2.2's "MSE" exactly as written (a sum);
* ``mse_mean``: the same divided by the number of pixels MN -- what ``nn.MSELoss()`` computes and
  what Algorithm 1 trains with;
* ``bce_mean``: -1/(MN) sum_ij (psi_ij log f(psi)_ij + (1-psi_ij) log(1-f(psi)_ij)) -- Ex 2.2.2's BCE
  exactly as written (a mean), i.e. the mean per-pixel Bernoulli cross-entropy (Def 3.1.3);
* ``bce_sum``:  the same summed over the pixels (the negative Bernoulli log-likelihood of the VAE).

``batch`` reduces over the images: ``"mean"`` (the default, as ``torch.nn.functional`` does),
``"sum"`` or ``"none"`` (one value per image). BCE needs images and reconstructions in [0, 1];
like PyTorch it clamps each logarithm at ``log_floor=-100`` so a saturated output gives a large
finite loss; ``log_floor=None`` evaluates the formula literally (+inf there).
"""

from __future__ import annotations

import torch
from torch import nn

from .divergences import check_same_shape, check_unit_interval, describe, p_log_q

BATCH_REDUCTIONS = ("mean", "sum", "none")
TORCH_LOG_FLOOR = -100.0


def _check_pair(image: torch.Tensor, reconstruction: torch.Tensor) -> None:
    for name, x in (("image", image), ("reconstruction", reconstruction)):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise ValueError(f"{name} is {describe(x)}; it must be a floating-point torch.Tensor "
                             "(convert 8-bit images with thesis_lib.infra.device.as_float)")
    check_same_shape("image", image, "reconstruction", reconstruction)
    if image.ndim < 2:
        raise ValueError(f"image has shape {tuple(image.shape)}; it must be a batch [B, ...] with at least "
                         "one pixel dimension (use x[None] for a single image)")


def _reduce(per_image: torch.Tensor, batch: str) -> torch.Tensor:
    if batch == "mean":
        return per_image.mean()
    if batch == "sum":
        return per_image.sum()
    if batch == "none":
        return per_image
    raise ValueError(f"batch={batch!r} is not allowed; choose one of {', '.join(map(repr, BATCH_REDUCTIONS))}")


def mse_sum(image: torch.Tensor, reconstruction: torch.Tensor, *, batch: str = "mean") -> torch.Tensor:
    """Ex 2.2.2's MSE as written: the squared error summed over the MN pixels of each image."""
    _check_pair(image, reconstruction)
    return _reduce((image - reconstruction).square().flatten(1).sum(1), batch)


def mse_mean(image: torch.Tensor, reconstruction: torch.Tensor, *, batch: str = "mean") -> torch.Tensor:
    """The squared error averaged over the pixels: ``mse_sum / MN``; ``nn.MSELoss()`` (Algorithm 1)."""
    _check_pair(image, reconstruction)
    return _reduce((image - reconstruction).square().flatten(1).mean(1), batch)


def _bce_pixels(image: torch.Tensor, reconstruction: torch.Tensor, log_floor: float | None) -> torch.Tensor:
    _check_pair(image, reconstruction)
    check_unit_interval("image", image)
    check_unit_interval("reconstruction", reconstruction)
    pixels = -(p_log_q(image, reconstruction, log_floor) + p_log_q(1 - image, 1 - reconstruction, log_floor))
    return pixels.flatten(1)


def bce_mean(image: torch.Tensor, reconstruction: torch.Tensor, *, batch: str = "mean",
             log_floor: float | None = TORCH_LOG_FLOOR) -> torch.Tensor:
    """Ex 2.2.2's BCE as written: the per-pixel binary cross-entropy averaged over the MN pixels."""
    return _reduce(_bce_pixels(image, reconstruction, log_floor).mean(1), batch)


def bce_sum(image: torch.Tensor, reconstruction: torch.Tensor, *, batch: str = "mean",
            log_floor: float | None = TORCH_LOG_FLOOR) -> torch.Tensor:
    """The per-pixel binary cross-entropy summed over the pixels: ``MN * bce_mean``."""
    return _reduce(_bce_pixels(image, reconstruction, log_floor).sum(1), batch)


# --- objectives for thesis_lib.infra.training.fit: objective(model, x, y) -> scalar ---------------------

def _reconstruct(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = x.reshape(x.shape[0], -1)  # row-major flattening, Lemma 1.3.3
    return flat, model(flat)


def reconstruction_mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Per-pixel mean squared error of ``model(x)`` against ``x`` (Algorithm 1); ``y`` is unused."""
    flat, out = _reconstruct(model, x)
    return mse_mean(flat, out)


def reconstruction_mse_sum(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Ex 2.2.2's MSE as written (summed over the pixels, mean over the batch); ``y`` is unused."""
    flat, out = _reconstruct(model, x)
    return mse_sum(flat, out)


def reconstruction_bce(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Ex 2.2.2's BCE of ``model(x)`` (probabilities in [0, 1]) against ``x``; ``y`` is unused."""
    flat, out = _reconstruct(model, x)
    return bce_mean(flat, out)

