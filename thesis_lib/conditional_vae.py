"""A conditional VAE (Sohn et al. 2015) of images with digit labels: the compositional baseline of
chapter 3.3 draws single digits with it (one label per image) and places them into a canvas's slots.

The condition c says which digits an image shows: the count of each digit 0–9 (one digit: its one-hot
vector). Encoder q(z | x, c) = N(μ, diag σ²) reads the image and c; decoder
p(x | z, c) = Π_i Ber(x_i; sigmoid(f_d(z, c)_i)) reads the code and c; prior p(z) = N(0, I).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .autoencoders import Decoder, Encoder
from .divergences import kl_to_standard_normal
from .gradient_estimators import reparameterise
from .infra.device import model_device
from .infra.validation import positive_int
from .networks import ActivationSpec
from .vae import bernoulli_nll, binarise

Tensor = torch.Tensor

DIGITS = 10


def digit_counts(labels: Tensor, *, check: bool = True) -> Tensor:
    """The condition of images with digit labels [B, k]: how often each digit 0–9 occurs, float [B, 10].
    The objective passes ``check=False`` (the labels of its data are digits by construction): the range
    check reads the labels on the host, a device synchronisation in every training step."""
    if labels.ndim != 2 or labels.dtype not in (torch.int64, torch.int32, torch.uint8):
        raise ValueError(f"labels has shape {tuple(labels.shape)} and dtype {labels.dtype}; give integer "
                         "digit labels [B, k], one row per image")
    if check and len(labels) and (labels.min() < 0 or labels.max() >= DIGITS):
        raise ValueError(f"labels must be digits 0..9, got values from {labels.min()} to {labels.max()}")
    counts = labels.new_zeros((len(labels), DIGITS), dtype=torch.float32)
    return counts.scatter_add_(1, labels.long(), torch.ones_like(labels, dtype=torch.float32))


class ConditionalVAE(nn.Module):
    """Encoder (d_0 + 10, d_1, ..., d_h, 2·latent) on [x, c]; decoder (latent + 10, d_h, ..., d_0) on [z, c]."""

    def __init__(self, widths: Sequence[int], latent: int, activation: ActivationSpec = "relu"):
        super().__init__()
        widths = tuple(widths)
        self.latent = positive_int("latent", latent)
        self.encoder = Encoder((widths[0] + DIGITS,) + widths[1:] + (2 * latent,), activation,
                               output_activation="identity")
        self.decoder = Decoder((latent + DIGITS,) + widths[::-1], activation, output_activation="identity")

    def encode(self, x: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """(μ, log σ²) of q(z | x, c) for images x [B, ...] and conditions c [B, 10]."""
        mu, logvar = self.encoder(torch.cat([x.reshape(len(x), -1), c], 1)).chunk(2, dim=1)
        return mu, logvar

    def decode_mean(self, z: Tensor, c: Tensor) -> Tensor:
        """The pixel probabilities E[x | z, c], [B, d_0]."""
        return torch.sigmoid(self.decoder(torch.cat([z, c], 1)))


def conditional_negative_elbo(model: ConditionalVAE, x: Tensor, y: Tensor) -> Tensor:
    """Mean over the batch of −ELBO(x | c) = −log p(x | z, c) + KL(q(z | x, c) ‖ N(0, I)), one
    reparameterised z per image, x re-binarised (dynamic binarisation), c = digit_counts(y)."""
    c = digit_counts(y, check=False)
    x = binarise(x).reshape(len(x), -1)
    mu, logvar = model.encode(x, c)
    logits = model.decoder(torch.cat([reparameterise(mu, logvar), c], 1))
    return (bernoulli_nll(x, logits) + kl_to_standard_normal(mu, logvar, check=False)).mean()


@torch.no_grad()
def generate(model: ConditionalVAE, labels: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One new image per row of digit labels [n, k]: z ~ N(0, I) decoded with c = digit_counts(labels),
    mean images [n, d_0] on the CPU."""
    device = model_device(model)
    c = digit_counts(labels).to(device)
    z = torch.randn(len(labels), model.latent, generator=generator).to(device)
    return model.decode_mean(z, c).cpu()
