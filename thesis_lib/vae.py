"""The variational autoencoder of Kingma & Welling (2013) (Def 3.2.6): Gaussian encoder, Bernoulli
decoder, standard normal prior, built from the thesis's networks (Def 1.1.6, 2.1.1, 2.1.2); its
negative ELBO with dynamic binarisation and a β-weighted version; the importance-weighted bound
L_k of Burda et al. (2015) as a training objective (the IWAE); its doubly reparameterised gradient
(DReG, Tucker et al. 2019); the decoder's output bias set from the training data, as Burda et al.'s
code does.

All log-densities are in nats; the terms are per image (sums over the pixels).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .autoencoders import Decoder, Encoder
from .divergences import kl_to_standard_normal
from .gradient_estimators import reparameterise
from .infra.device import as_float, fork_rng, model_device
from .infra.validation import choice, positive_int, positive_number
from .losses import mse_mean, mse_sum
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
    return binarise(as_float(images.reshape(len(images), -1)), gen)


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
    return bernoulli_nll(x, model.decode(z)), kl_to_standard_normal(mu, logvar, check=False)


def negative_elbo(model: VAE, x: Tensor, y: Tensor | None = None, kl_weight: float = 1.0) -> Tensor:
    """Mean over the batch of -ELBO per image, x re-binarised (dynamic binarisation); ``y`` is unused.
    ``kl_weight`` < 1 weighs the KL term down (a KL warm-up, ``TrainConfig.kl_warmup_epochs``)."""
    reconstruction, kl = elbo_terms(model, binarise(x))
    return (reconstruction + kl_weight * kl).mean()


def beta_negative_elbo(model: VAE, x: Tensor, y: Tensor | None = None, kl_weight: float = 1.0) -> Tensor:
    """Mean over the batch of reconstruction + model.beta · KL (β-VAE); equals :func:`negative_elbo` at β = 1.
    ``kl_weight`` multiplies β during a KL warm-up."""
    reconstruction, kl = elbo_terms(model, binarise(x))
    return (reconstruction + kl_weight * model.beta * kl).mean()


#: how :func:`squared_error_negative_elbo` reduces the squared error over the pixels
PIXEL_REDUCTIONS = ("sum", "mean")


def squared_error_negative_elbo(model: VAE, x: Tensor, y: Tensor | None = None, pixels: str = "sum") -> Tensor:
    """Mean over the batch of reconstruction + KL for a Gaussian decoder with mean sigmoid(f_d(z)) on grey
    images x in [0, 1] (not binarised), one reparameterised z per image. ``pixels="sum"``: Ex 2.2.2's MSE
    as written, Σ_i (x_i − m_i)², which is −log N(x; m, ½ I) up to a constant; ``"mean"``: the squared
    error averaged over the d pixels, d times smaller next to the KL term. ``y`` is unused."""
    choice("pixels", pixels, PIXEL_REDUCTIONS)
    x = x.reshape(len(x), -1)
    mu, logvar = model.encode(x)
    mean = model.decode_mean(reparameterise(mu, logvar))
    reconstruction = (mse_sum if pixels == "sum" else mse_mean)(x, mean, batch="none")
    return (reconstruction + kl_to_standard_normal(mu, logvar, check=False)).mean()


def importance_log_weights(model: VAE, x: Tensor, eps: Tensor) -> Tensor:
    """log w_j = log p(x | z_j) + log p(z_j) - log q(z_j | x) at z_j = μ + σ ε_j, for binary images
    x [B, ...] and noise eps [k, B, latent]: [k, B], differentiable in the model's parameters."""
    return _log_weights_and_codes(model, x, eps)[0]


def _log_weights_and_codes(model: VAE, x: Tensor, eps: Tensor, hold_q: bool = False) -> tuple[Tensor, Tensor]:
    """(log w [k, B], z [k, B, latent]) of :func:`importance_log_weights`; with ``hold_q``, log q(z|x) is
    evaluated at the encoder's outputs held fixed, so the encoder reaches log w only through z (DReG)."""
    x = x.reshape(len(x), -1)
    mu, logvar = model.encode(x)
    z = reparameterise(mu.expand_as(eps), logvar.expand_as(eps), eps)
    log_prior = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(-1)
    if hold_q:
        mu, logvar = mu.detach(), logvar.detach()
        log_q = -0.5 * ((z - mu) ** 2 * torch.exp(-logvar) + math.log(2 * math.pi) + logvar).sum(-1)
    else:
        log_q = -0.5 * (eps ** 2 + math.log(2 * math.pi) + logvar).sum(-1)
    return -bernoulli_nll(x, model.decode(z)) + log_prior - log_q, z


def negative_iwae_bound(model: VAE, x: Tensor, y: Tensor | None = None, k: int = 5) -> Tensor:
    """Mean over the batch of -L_k = -log (1/k) Σ_j w_j (Burda et al. 2015, eq. 8), x re-binarised: the
    IWAE's training objective; k = 1 is the one-sample ELBO with a Monte Carlo KL. ``y`` is unused."""
    positive_int("k", k)
    x = binarise(x).reshape(len(x), -1)
    eps = torch.randn(k, len(x), model.latent, device=x.device, dtype=x.dtype)
    log_w = importance_log_weights(model, x, eps)
    return (math.log(k) - torch.logsumexp(log_w, dim=0)).mean()


def negative_iwae_bound_dreg(model: VAE, x: Tensor, y: Tensor | None = None, k: int = 5,
                             eps: Tensor | None = None) -> Tensor:
    """-L_k in value (x re-binarised, as :func:`negative_iwae_bound`), the doubly reparameterised
    gradient estimator (DReG, Tucker et al. 2019) in gradient; ``eps`` [k, B, latent]: the noise, drawn
    if not given; ``y`` is unused.

    With normalised weights w̃_j = w_j / Σ_i w_i, the decoder's gradient is the IWAE's, Σ_j w̃_j ∇_θ log w_j;
    the encoder's is Σ_j w̃_j² ∂log w_j/∂z_j · ∂z_j/∂φ, with log q(z_j|x) evaluated at the encoder's
    outputs held fixed (only the path through z_j = μ + σ ε_j carries φ). That removes the score-function
    term whose noise swamps the IWAE's encoder gradient as k grows. One forward pass: a hook on z
    scales its gradient by w̃_j."""
    positive_int("k", k)
    x = binarise(x).reshape(len(x), -1)
    if eps is None:
        eps = torch.randn(k, len(x), model.latent, device=x.device, dtype=x.dtype)
    log_w, z = _log_weights_and_codes(model, x, eps, hold_q=True)
    weights = torch.softmax(log_w.detach(), dim=0)
    if z.requires_grad:
        z.register_hook(lambda grad: grad * weights[..., None])
    surrogate = (weights * log_w).sum(0)
    bound = torch.logsumexp(log_w.detach(), dim=0) - math.log(k)
    return -(bound + surrogate - surrogate.detach()).mean()


def encoder_gradient_draws(model: VAE, x: Tensor, objective, draws: int, seed: int = 0) -> Tensor:
    """``draws`` independent estimates of the gradient of ``objective(model, x)`` with respect to the
    encoder's parameters, flattened: [draws, P]. x: binary images [B, ...] (re-binarising keeps them);
    the noise is seeded, and the caller's random state is left as it was."""
    positive_int("draws", draws)
    params = list(model.encoder.parameters())
    out = []
    with fork_rng(model_device(model)):
        torch.manual_seed(seed)
        for _ in range(draws):
            grads = torch.autograd.grad(objective(model, x), params)
            out.append(torch.cat([g.flatten() for g in grads]))
    return torch.stack(out)


#: Burda et al.'s ``get_train_bias_np`` clips the mean pixel to [0.001, 0.999] before the logit
OUTPUT_BIAS_CLIP = 1e-3


def train_mean_logit(train_x: Tensor, clip: float = OUTPUT_BIAS_CLIP) -> Tensor:
    """logit(clip(mean pixel, clip, 1 - clip)) of images [N, ...] (uint8 divided by 255): the decoder
    output bias with which an untrained decoder outputs the training data's mean image."""
    x = train_x.reshape(len(train_x), -1)
    mean = x.double().mean(0) / (255 if x.dtype == torch.uint8 else 1)
    return torch.logit(mean.clamp(clip, 1 - clip)).float()


def set_output_bias(model: VAE, bias: Tensor) -> VAE:
    """Overwrite the bias of the decoder's last layer (the Bernoulli logits) with ``bias`` [d_0]."""
    layer = model.decoder.layers[-1]
    if bias.shape != layer.b.shape:
        raise ValueError(f"bias has shape {tuple(bias.shape)}; the decoder's output layer needs {tuple(layer.b.shape)}")
    with torch.no_grad():
        layer.b.copy_(bias)
    return model
