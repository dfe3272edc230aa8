"""Looking at a trained autoencoder (or PCA) through its latent space (§2.3): codes, decoded
codes, reconstructions and their error, and the holes between the codes of the data; three ways
to choose codes to decode when the autoencoder has no prior of its own: uniform in the box of the
codes, on the segments between codes, and from a Gaussian mixture fitted to the codes (§3.2).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .infra.device import model_device
from .infra.training import evaluate
from .losses import reconstruction_mse
from .pca import PCA, as_flat_float


def _batched(function, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    return torch.cat([function(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


@torch.no_grad()
def latent_codes(model: nn.Module | PCA, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """The codes f_e(x) of ``images`` [N, ...] (uint8 or floats in [0, 1]) as a CPU tensor [N, n_b]."""
    if isinstance(model, PCA):
        return model.encode(images)
    encoder = model.encoder.eval()
    device = model_device(model)
    return _batched(lambda x: encoder(as_flat_float(x).to(device)).cpu(), images, batch_size)


@torch.no_grad()
def decode(model: nn.Module | PCA, codes: torch.Tensor, side: int | None = None) -> torch.Tensor:
    """Decoded images f_d(z) for codes [N, n_b], reshaped to square images [N, side, side] (CPU)."""
    if codes.ndim != 2:
        raise ValueError(f"codes.shape={tuple(codes.shape)} is not allowed; it must be [N, bottleneck]")
    if isinstance(model, PCA):
        flat = model.decode(codes)
    else:
        flat = model.decoder.eval()(codes.float().to(model_device(model))).cpu()
    side = side or math.isqrt(flat.shape[1])
    if side * side != flat.shape[1]:
        raise ValueError(f"side={side} is not allowed for outputs of {flat.shape[1]} pixels; give side with "
                         f"side² = {flat.shape[1]}")
    return flat.reshape(len(flat), side, side)


@torch.no_grad()
def reconstruct(model: nn.Module | PCA, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """f(x) for ``images`` [N, H, W], as floats of the same shape (CPU); not clipped to [0, 1]."""
    if isinstance(model, PCA):
        return model(images).reshape(images.shape)
    model.eval()
    device = model_device(model)
    flat = _batched(lambda x: model(as_flat_float(x).to(device)).cpu(), images, batch_size)
    return flat.reshape(images.shape)


def mse_per_pixel(model: nn.Module | PCA, images: torch.Tensor) -> float:
    """Mean squared reconstruction error per pixel (Algorithm 1's objective) over ``images``."""
    if isinstance(model, PCA):
        return model.mse(images)
    return evaluate(model, reconstruction_mse, images)


def mse_table(models: dict[str, nn.Module | PCA], images: torch.Tensor) -> dict[str, float]:
    """``{name: mse_per_pixel(model, images)}`` for every model, in the given order."""
    return {name: mse_per_pixel(model, images) for name, model in models.items()}


def box_samples(codes: torch.Tensor, n: int, margin: float = 0.25, seed: int = 0) -> torch.Tensor:
    """``n`` points drawn uniformly from the bounding box of ``codes`` [N, d], each side widened by
    ``margin`` times its length at both ends."""
    if codes.ndim != 2 or len(codes) < 1:
        raise ValueError(f"codes.shape={tuple(codes.shape)} is not allowed; it must be [N, d] with N >= 1")
    if not margin >= 0:
        raise ValueError(f"margin={margin!r} is not allowed; it must be >= 0")
    low, high = codes.min(0).values, codes.max(0).values
    low, high = low - margin * (high - low), high + margin * (high - low)
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(n, codes.shape[1], generator=gen)


def nearest_code_distance(points: torch.Tensor, codes: torch.Tensor, exclude_self: bool = False) -> torch.Tensor:
    """Euclidean distance from each point [M, d] to the nearest of ``codes`` [N, d]; with
    ``exclude_self`` the points are the codes themselves and each one's own distance 0 is skipped."""
    distances = torch.cdist(points.double(), codes.double())
    if exclude_self:
        if points.shape != codes.shape:
            raise ValueError("exclude_self=True is only allowed when points and codes are the same tensor")
        distances.fill_diagonal_(float("inf"))
    return distances.min(1).values.float()


def between_codes(codes: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` points (1 − t) c_i + t c_j on the segments between random pairs of ``codes`` [N, d],
    with i, j uniform and t uniform on [0, 1]."""
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"codes.shape={tuple(codes.shape)} is not allowed; it must be [N, d] with N >= 2")
    gen = torch.Generator().manual_seed(seed)
    pairs = torch.randint(len(codes), (2, n), generator=gen)
    t = torch.rand(n, 1, generator=gen)
    return (1 - t) * codes[pairs[0]] + t * codes[pairs[1]]


def fit_mixture(codes: torch.Tensor, components: int = 10, seed: int = 0):
    """A Gaussian mixture with ``components`` full-covariance components fitted to ``codes`` [N, d] by
    EM (scikit-learn's ``GaussianMixture``, k-means initialisation, seeded): a density for the codes."""
    from sklearn.mixture import GaussianMixture

    if codes.ndim != 2 or len(codes) < components:
        raise ValueError(f"codes.shape={tuple(codes.shape)} is not allowed; it must be [N, d] with "
                         f"N >= components={components}")
    return GaussianMixture(components, covariance_type="full", random_state=seed).fit(codes.double().numpy())


def mixture_samples(mixture, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` codes drawn from a fitted ``GaussianMixture``, seeded, in a random order, float32 [n, d]."""
    mixture.random_state = seed
    codes, _ = mixture.sample(n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return torch.from_numpy(codes).float()[order]
