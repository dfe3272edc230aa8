"""The variational autoencoder of Kingma & Welling (2013) (Def 3.2.6): Gaussian encoder, Bernoulli
decoder, standard normal prior, built from the thesis's networks (Def 1.1.6, 2.1.1, 2.1.2); its
negative ELBO with dynamic binarisation and a β-weighted version.

All log-densities are in nats; the terms are per image (sums over the pixels).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .autoencoders import Decoder, Encoder
from .divergences import kl_to_standard_normal
from .gradient_estimators import reparameterise
from .infra.validation import positive_int, positive_number
from .networks import ActivationSpec

Tensor = torch.Tensor


class VAE(nn.Module):
    """q(z|x) = N(μ(x), diag σ²(x)), p(z) = N(0, I), p(x|z) = Π_i Ber(x_i; sigmoid(f_d(z)_i)).

    ``widths`` = (d_0, ..., d_h): the encoder is the network (d_0, ..., d_h, 2·latent) of Def 2.1.1
    whose output is read as (μ, log σ²) (identity on its last layer); the decoder is the mirrored
    network (latent, d_h, ..., d_0) of Def 2.1.2 whose output are Bernoulli logits. ``beta`` is the
    weight of the KL term in :func:`beta_negative_elbo` (β = 1: the ELBO).
    """

    def __init__(self, widths: Sequence[int] = (784, 400), latent: int = 20,
                 activation: ActivationSpec = "relu", beta: float = 1.0):
        super().__init__()
        widths = tuple(widths)
        positive_int("latent", latent)
        positive_number("beta", beta)
        self.latent = latent
        self.beta = float(beta)
        self.encoder = Encoder(widths + (2 * latent,), activation, output_activation="identity")
        self.decoder = Decoder((latent,) + widths[::-1], activation, output_activation="identity")

    @property
    def data_dim(self) -> int:
        return self.encoder.input_dim

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(μ, log σ²) of q(z|x) for images x [B, ...] (flattened row by row, Lemma 1.3.3)."""
        mu, logvar = self.encoder(x.reshape(len(x), -1)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """Bernoulli logits of p(x|z), [..., latent] -> [..., d_0]."""
        return self.decoder(z)

    def decode_mean(self, z: Tensor) -> Tensor:
        """The pixel probabilities sigmoid(logits): the mean image E[x|z]."""
        return torch.sigmoid(self.decode(z))

    def forward(self, x: Tensor) -> Tensor:
        """The mean reconstruction E[x | z] at z = μ(x) (the autoencoder view), [B, d_0]."""
        return self.decode_mean(self.encode(x)[0])

    def extra_repr(self) -> str:
        return f"latent={self.latent}, beta={self.beta:g}"


def binarise(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Dynamic binarisation: each pixel becomes 1 with probability equal to its grey value in [0, 1]."""
    return torch.bernoulli(x, generator=generator)


def fixed_binarisation(images: Tensor, seed: int = 0) -> Tensor:
    """One seeded binarisation of uint8 images [N, ...] -> float {0, 1} [N, pixels]: a fixed test set."""
    if images.dtype != torch.uint8:
        raise ValueError(f"images has dtype {images.dtype}; pass the uint8 images (0..255)")
    gen = torch.Generator().manual_seed(seed)
    return binarise(images.reshape(len(images), -1).float() / 255, gen)


def bernoulli_nll(x: Tensor, logits: Tensor) -> Tensor:
    """-log p(x|z) = Σ_i BCE(x_i, sigmoid(logits_i)) summed over the pixels (last axis), in nats."""
    return F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)


def elbo_terms(model: VAE, x: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The two per-image terms of the negative ELBO for binary images x [B, ...], one sample z each.

    reconstruction = -log p(x|z) at z = μ + σ ε (summed over the pixels), kl = KL(q(z|x) || N(0, I));
    -ELBO = reconstruction + kl.
    """
    x = x.reshape(len(x), -1)
    mu, logvar = model.encode(x)
    z = reparameterise(mu, logvar, eps)
    return bernoulli_nll(x, model.decode(z)), kl_to_standard_normal(mu, logvar)


def negative_elbo(model: VAE, x: Tensor, y: Tensor | None = None) -> Tensor:
    """Mean over the batch of -ELBO per image, x re-binarised (dynamic binarisation); ``y`` is unused."""
    reconstruction, kl = elbo_terms(model, binarise(x))
    return (reconstruction + kl).mean()


def beta_negative_elbo(model: VAE, x: Tensor, y: Tensor | None = None) -> Tensor:
    """Mean over the batch of reconstruction + model.beta · KL (β-VAE); equals :func:`negative_elbo` at β = 1."""
    reconstruction, kl = elbo_terms(model, binarise(x))
    return (reconstruction + model.beta * kl).mean()
