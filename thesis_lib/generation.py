"""Generating with a trained VAE (§3.2): prior samples, the inverse-CDF latent grid of Kingma &
Welling (2013, Fig. 4), interpolation between encodings, and nearest training neighbours.
"""

from __future__ import annotations

import math

import torch

from .infra.device import as_float, model_device
from .infra.validation import positive_int
from .vae import VAE

Tensor = torch.Tensor


@torch.no_grad()
def sample_prior(model: VAE, n: int, generator: torch.Generator | None = None) -> Tensor:
    """Mean images E[x|z] of n latent points z ~ p(z) = N(0, I), [n, d_0]."""
    z = torch.randn(positive_int("n", n), model.latent, generator=generator)
    return model.decode_mean(z.to(model_device(model))).cpu()


def latent_grid(n: int, low: float = 0.05, high: float = 0.95) -> Tensor:
    """An n×n grid of 2-D latent points Φ⁻¹(u) for u on an even grid of [low, high]² (Kingma & Welling, Fig. 4).

    Row r, column c is z = (Φ⁻¹(u_c), Φ⁻¹(u_{n-1-r})): z_1 grows to the right, z_2 upwards. Shape [n·n, 2].
    """
    positive_int("n", n)
    if not 0 < low < high < 1:
        raise ValueError(f"low={low!r}, high={high!r} are not allowed; they must satisfy 0 < low < high < 1")
    z = torch.special.ndtri(torch.linspace(low, high, n, dtype=torch.float64)).float()
    rows, cols = torch.meshgrid(z.flip(0), z, indexing="ij")
    return torch.stack([cols.reshape(-1), rows.reshape(-1)], dim=-1)


@torch.no_grad()
def interpolate(model: VAE, x_a: Tensor, x_b: Tensor, steps: int) -> Tensor:
    """Mean images decoded along the straight line from μ(x_a) to μ(x_b) in latent space, [steps, d_0]."""
    positive_int("steps", steps)
    device = model_device(model)
    mu = model.encode(torch.stack([x_a, x_b]).to(device).float())[0]
    t = torch.linspace(0, 1, steps, device=device)[:, None]
    return model.decode_mean((1 - t) * mu[0] + t * mu[1]).cpu()


def nearest_neighbours(queries: Tensor, references: Tensor, batch_size: int = 4096) -> tuple[Tensor, Tensor]:
    """For each query image, the Euclidean (pixel-space) distance to and index of its nearest reference.

    ``queries`` [n, ...] and ``references`` [N, ...] with the same number of pixels, floats in [0, 1]
    (uint8 references are divided by 255); references are scanned ``batch_size`` at a time.
    """
    q = queries.reshape(len(queries), -1).float()
    best = torch.full((len(q),), math.inf)
    index = torch.zeros(len(q), dtype=torch.long)
    for i in range(0, len(references), batch_size):
        ref = as_float(references[i:i + batch_size]).reshape(-1, q.shape[1])
        d, j = torch.cdist(q, ref).min(dim=1)
        better = d < best
        best = torch.where(better, d, best)
        index = torch.where(better, j + i, index)
    return best, index
