"""Small models shared by the tests of the latent-variable modules (not a test file)."""

import torch

from thesis_lib.latent_models import LinearGaussianModel
from thesis_lib.vae import VAE

DTYPE = torch.float64


def linear_model(dim: int, latent: int, seed: int, orthogonal: bool = False) -> LinearGaussianModel:
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(dim, latent, generator=gen, dtype=DTYPE)
    if orthogonal:
        W = torch.linalg.qr(W)[0] * torch.linspace(0.5, 2.0, latent, dtype=DTYPE)
    return LinearGaussianModel(W, torch.randn(dim, generator=gen, dtype=DTYPE), 0.3)


def small_vae(**kw):
    torch.manual_seed(0)
    return VAE((16, 8), latent=3, **kw).double()
