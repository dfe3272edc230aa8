"""Principal component analysis: the linear baseline for the autoencoders of §2.3.

PCA with k components fitted on N images x_1, ..., x_N in R^D: with the mean μ and the centred
data X_c = X − μ = U S V^T (thin SVD), the principal axes are the first k columns V_k of V, a
code is z = V_k^T (x − μ) and the reconstruction is μ + V_k z. On the training data the mean
squared error per pixel is (Σ_{i>k} s_i²) / (N D): the discarded eigenvalues s_i²/N of the
covariance, summed and divided by D. By Eckart–Young no affine map of rank ≤ k does better on
the training data, which is why a linear autoencoder with bottleneck k (Def 2.3.3) can at best
reach PCA's error (Baldi & Hornik 1989).

Images come as uint8 (pixels 0–255, scaled to [0, 1] as in training) or floats, shape
``[N, ...]``; every non-batch dimension is a pixel.
"""

from __future__ import annotations

import dataclasses

import torch

from .infra.device import as_float

METHODS = ("gram", "svd")


def as_flat_float(images: torch.Tensor) -> torch.Tensor:
    """``[N, ...]`` images as float32 rows ``[N, D]``; uint8 pixels are divided by 255."""
    if not isinstance(images, torch.Tensor) or images.ndim < 2:
        raise ValueError(f"images={images!r:.80} is not allowed; it must be a torch.Tensor [N, ...] with N >= 1 "
                         "images of at least one pixel")
    flat = images.reshape(len(images), -1)
    return as_float(flat)


@dataclasses.dataclass(frozen=True)
class PCA:
    """A fitted PCA: ``mean`` [D], ``components`` [k, D] (orthonormal rows, the principal axes),
    ``singular_values`` [r] of the centred training data (all of them, decreasing) and ``n`` = N."""

    mean: torch.Tensor
    components: torch.Tensor
    singular_values: torch.Tensor
    n: int

    @property
    def k(self) -> int:
        return self.components.shape[0]

    @property
    def explained_variance(self) -> torch.Tensor:
        """All eigenvalues s_i² / N of the (biased) sample covariance, decreasing."""
        return self.singular_values.square() / self.n

    def truncate(self, k: int) -> "PCA":
        """The same fit with only the first ``k`` components (1 <= k <= self.k)."""
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.k:
            raise ValueError(f"k={k!r} is not allowed; it must be an integer with 1 <= k <= {self.k}")
        return dataclasses.replace(self, components=self.components[:k])

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Codes z = V_k^T (x − μ), shape [N, k]."""
        x = as_flat_float(images)
        if x.shape[1] != self.mean.numel():
            raise ValueError(f"images with {x.shape[1]} pixels are not allowed; this PCA was fitted on "
                             f"{self.mean.numel()} pixels")
        return (x - self.mean) @ self.components.T

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Flat reconstructions μ + V_k z, shape [N, D]."""
        if codes.ndim != 2 or codes.shape[1] != self.k:
            raise ValueError(f"codes.shape={tuple(codes.shape)} is not allowed; it must be [N, {self.k}]")
        return self.mean + codes.float() @ self.components

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Flat reconstructions of ``images``: decode(encode(x)), shape [N, D]."""
        return self.decode(self.encode(images))

    def mse(self, images: torch.Tensor) -> float:
        """Mean squared error per pixel of the reconstructions (pixels in [0, 1] for uint8 input)."""
        return (self(images).double() - as_flat_float(images).double()).square().mean().item()


def fit_pca(images: torch.Tensor, k: int, method: str = "gram") -> PCA:
    """PCA with ``k`` components of ``images`` [N, ...].

    ``method="svd"`` takes the thin SVD of the centred N×D data directly; ``"gram"`` obtains the
    same V and s² as the eigenvectors and eigenvalues of X_c^T X_c = V S² V^T (a D×D matrix,
    accumulated in float32 and diagonalised in float64), several times faster for MNIST's
    60,000×784; it loses accuracy only in the smallest s_i. The tests check both against NumPy.
    Signs are fixed so that the largest-magnitude entry of every axis is positive.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not allowed; choose one of {', '.join(map(repr, METHODS))}")
    x = as_flat_float(images)
    n, d = x.shape
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= min(n, d):
        raise ValueError(f"k={k!r} is not allowed; it must be an integer with 1 <= k <= min(N, D) = {min(n, d)}")
    mean = x.double().mean(0)
    centred = x - mean.float()
    if method == "svd":
        _, s, vh = torch.linalg.svd(centred.double(), full_matrices=False)
    else:
        gram = (centred.T @ centred).double()
        eigenvalues, vectors = torch.linalg.eigh((gram + gram.T) / 2)
        s = eigenvalues.flip(0).clamp_min(0).sqrt()[:min(n, d)]
        vh = vectors.flip(1).T
    axes = vh[:k]
    signs = torch.sign(axes.gather(1, axes.abs().argmax(1, keepdim=True)))
    return PCA(mean.float(), (axes * signs).float(), s.float(), n)
