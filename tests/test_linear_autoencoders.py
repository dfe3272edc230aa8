"""Linear autoencoders and PCA (Def 2.3.1–2.3.3): the affine form and the PCA autoencoder, exactly."""

import pytest
import torch

from thesis_lib import linear_autoencoders
from thesis_lib.autoencoders import mirrored_autoencoder
from thesis_lib.pca import fit_pca


def test_affine_form_reproduces_the_linear_network():
    torch.manual_seed(0)
    model = mirrored_autoencoder((20, 9, 6, 2), activation="identity").double()
    A, c = linear_autoencoders.affine_form(model)
    x = torch.randn(5, 20, dtype=torch.float64)
    torch.testing.assert_close(x @ A.T + c, model(x).detach())
    assert torch.linalg.matrix_rank(A).item() == 2  # at most the bottleneck (and generically equal)
    with pytest.raises(ValueError, match="identity"):
        linear_autoencoders.affine_form(mirrored_autoencoder((20, 9, 2), activation="relu"))


def test_pca_autoencoder_computes_pca_exactly():
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(100, 30, generator=gen) * torch.linspace(1, 0.1, 30)
    pca = fit_pca(x, 3)
    model = linear_autoencoders.pca_autoencoder(pca, widths=(30, 12, 7, 3))
    assert set(model.activations) == {"identity"} and model.bottleneck == 3
    torch.testing.assert_close(model(x).detach(), pca(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="bottleneck 3"):
        linear_autoencoders.pca_autoencoder(pca, widths=(30, 12, 4))
