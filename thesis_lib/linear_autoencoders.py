"""Linear autoencoders and PCA (Def 2.3.1–2.3.3): a linear network is one affine map, and PCA's
reconstruction is a linear autoencoder of Algorithm 1's widths.
"""

from __future__ import annotations

import torch

from .autoencoders import ALGORITHM_1_WIDTHS, Autoencoder, mirrored_autoencoder
from .networks import DeepNetwork
from .pca import PCA


@torch.no_grad()
def affine_form(network: DeepNetwork) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, c) with network(x) = A x + c, for a network whose every activation is the identity.

    A = W_L ⋯ W_1 and c = W_L(⋯(W_2 b_1 + b_2)⋯) + b_L: the composition of affine layers is affine,
    and rank A is at most the smallest width.
    """
    if any(name != "identity" for name in network.activations):
        raise ValueError(f"network with activations {network.activations} is not allowed; affine_form needs "
                         "the identity on every layer (a linear network, Def 2.3.1-2.3.3)")
    A = torch.eye(network.input_dim, dtype=torch.float64)
    c = torch.zeros(network.input_dim, dtype=torch.float64)
    for W, b in network.theta:
        A, c = W.cpu().double() @ A, W.cpu().double() @ c + b.cpu().double()
    return A, c


@torch.no_grad()
def pca_autoencoder(pca: PCA, widths: tuple[int, ...] = ALGORITHM_1_WIDTHS) -> Autoencoder:
    """The linear autoencoder (identity activations, encoder ``widths``, mirrored decoder) that computes
    exactly PCA's reconstruction μ + V_k V_kᵀ(x − μ); needs k = bottleneck = pca.k.

    The first layer projects onto the principal axes (W_1 = V_kᵀ in its first k rows, b_1 = −V_kᵀμ);
    every later layer passes the k coordinates on; the last adds μ back (W = V_k, b = μ).
    """
    widths = tuple(widths)
    if widths[-1] != pca.k or widths[0] != pca.mean.numel():
        raise ValueError(f"widths={widths} is not allowed for a PCA with k={pca.k} on {pca.mean.numel()} pixels; "
                         f"the input width must be {pca.mean.numel()} and the bottleneck {pca.k}")
    model = mirrored_autoencoder(widths, activation="identity")
    k = pca.k
    for W, b in model.theta:
        W.zero_()
        b.zero_()
        W[:k, :k] = torch.eye(k)
    (W_first, b_first), (W_last, b_last) = model.theta[0], model.theta[-1]
    W_first.zero_()
    W_first[:k] = pca.components
    b_first[:k] = -pca.components @ pca.mean
    W_last.zero_()
    W_last[:, :k] = pca.components.T
    b_last.copy_(pca.mean)
    return model
