"""A convolutional VAE for composed MNIST (chapter 3.3), conditional (Sohn et al. 2015) or not.

The condition is a request: the digit asked for in each slot (left, right). It acts where it is
meant: as ten label maps, one-hot over the digits, broadcast over the left half of the canvas for the
left slot's digit and over the right half for the right one's (:func:`slot_maps`), and concatenated to
the feature maps at every resolution of the encoder and the decoder. Without a condition the same
network is a plain VAE of canvases (Def 3.2.6 with convolutional networks): q(z | x) = N(μ, diag σ²),
p(z) = N(0, I), p(x | z) = Π_i Ber(x_i; sigmoid(f_d(z)_i)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .conv_layers import ImageConv, Upsample
from .divergences import kl_to_standard_normal
from .gradient_estimators import reparameterise
from .infra.device import model_device
from .infra.validation import positive_int
from .networks import Layer, check_widths
from .vae import bernoulli_nll, binarise

Tensor = torch.Tensor

DIGITS = 10


def slot_maps(requests: Tensor, size: int) -> Tensor:
    """Label maps of requests [B, 2] (left digit, right digit) at a size×size resolution, [B, 10, size,
    size]: channel d is 1 over the left half where the left digit is d, over the right half where the
    right digit is d, 0 elsewhere."""
    if requests.ndim != 2 or requests.shape[1] != 2:
        raise ValueError(f"requests.shape={tuple(requests.shape)} is not allowed; give [B, 2] digits (left, right)")
    onehot = F.one_hot(requests.long(), DIGITS).to(torch.float32)  # [B, 2, 10]
    half = size // 2
    left = onehot[:, 0, :, None, None].expand(-1, -1, size, half)
    right = onehot[:, 1, :, None, None].expand(-1, -1, size, size - half)
    return torch.cat([left, right], -1)


class ConvVAE(nn.Module):
    """Encoder: 48×48 → three 3×3 convolutions with stride 2 (ReLU; 1 → c1 → c2 → c3 channels, the
    label maps joined before each) → 6×6×c3 → (μ, log σ²). Decoder: (z, and the request one-hot) →
    6×6×c3 (ReLU) → three times (label maps joined, nearest upsampling ×2, 3×3 convolution: c3 → c2 → c1
    → 1 channels, ReLU but identity on the last) → 48×48 Bernoulli logits, flat [B, 2304]."""

    def __init__(self, latent: int = 16, channels: tuple[int, int, int] = (16, 32, 32), conditional: bool = True):
        super().__init__()
        c1, c2, c3 = check_widths(tuple(channels) + (1,), name="(channels..., 1)")[:3]
        self.latent = positive_int("latent", latent)
        self.conditional = bool(conditional)
        extra = DIGITS if self.conditional else 0
        self.down = nn.ModuleList([ImageConv(1 + extra, c1, stride=2), ImageConv(c1 + extra, c2, stride=2),
                                   ImageConv(c2 + extra, c3, stride=2)])
        self.to_code = Layer(36 * c3, 2 * latent, "identity")
        self.from_code = Layer(latent + 2 * extra, 36 * c3, "relu")
        self.up = nn.ModuleList([ImageConv(c3 + extra, c2), ImageConv(c2 + extra, c1),
                                 ImageConv(c1 + extra, 1, activation="identity")])
        self.upsample = Upsample(2)

    def _join(self, h: Tensor, requests: Tensor | None) -> Tensor:
        if not self.conditional:
            return h
        return torch.cat([h, slot_maps(requests, h.shape[-1]).to(h)], 1)

    def _check(self, requests: Tensor | None) -> None:
        if self.conditional and requests is None:
            raise ValueError("this VAE is conditional: give requests [B, 2] (left digit, right digit)")
        if not self.conditional and requests is not None:
            raise ValueError("this VAE is not conditional: requests must be None")

    def encode(self, x: Tensor, requests: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(μ, log σ²) of q(z | x[, requests]) for canvases x [B, 48, 48] or [B, 2304]."""
        self._check(requests)
        h = x.reshape(len(x), 1, 48, 48)
        for conv in self.down:
            h = conv(self._join(h, requests))
        mu, logvar = self.to_code(h.flatten(1)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor, requests: Tensor | None = None) -> Tensor:
        """Bernoulli logits of p(x | z[, requests]), [B, 2304]."""
        self._check(requests)
        if self.conditional:
            z = torch.cat([z, F.one_hot(requests.long(), DIGITS).flatten(1).to(z)], -1)
        h = self.from_code(z).reshape(len(z), -1, 6, 6)
        for conv in self.up:
            h = conv(self.upsample(self._join(h, requests)))
        return h.flatten(1)

    def decode_mean(self, z: Tensor, requests: Tensor | None = None) -> Tensor:
        """The pixel probabilities E[x | z[, requests]], [B, 2304]."""
        return torch.sigmoid(self.decode(z, requests))

    def extra_repr(self) -> str:
        return f"latent={self.latent}, conditional={self.conditional}"


def canvas_negative_elbo(model: ConvVAE, x: Tensor, y: Tensor | None = None, kl_weight: float = 1.0) -> Tensor:
    """Mean over the batch of −ELBO(x[ | y]) = −log p(x | z[, y]) + KL(q(z | x[, y]) ‖ N(0, I)), one
    reparameterised z per canvas, x re-binarised (dynamic binarisation); the labels y [B, 2] are the
    condition of a conditional model and unused otherwise."""
    requests = y if model.conditional else None
    x = binarise(x).reshape(len(x), -1)
    mu, logvar = model.encode(x, requests)
    logits = model.decode(reparameterise(mu, logvar), requests)
    return (bernoulli_nll(x, logits) + kl_weight * kl_to_standard_normal(mu, logvar, check=False)).mean()


@torch.no_grad()
def generate(model: ConvVAE, n: int, requests: Tensor | None = None,
             generator: torch.Generator | None = None) -> Tensor:
    """``n`` new canvases: z ~ N(0, I) decoded (with ``requests`` [n, 2] for a conditional model), mean
    images [n, 48, 48] on the CPU."""
    positive_int("n", n)
    if requests is not None and len(requests) != n:
        raise ValueError(f"requests has {len(requests)} rows; give one per canvas (n={n})")
    device = model_device(model)
    z = torch.randn(n, model.latent, generator=generator).to(device)
    requests = None if requests is None else requests.to(device)
    return model.decode_mean(z, requests).cpu().reshape(n, 48, 48)
