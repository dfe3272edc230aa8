"""thesis_lib.latent_models: the exact linear Gaussian model and the ELBO identity (Thm 3.2.3)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from latent_helpers import DTYPE, linear_model
from thesis_lib.latent_models import LinearGaussianModel, diagonal_gaussian
from thesis_lib.monte_carlo import monte_carlo


# --- the exact model and the ELBO identity (Thm 3.2.3) ----------------------------------------

@settings(max_examples=20, deadline=None)
@given(dim=st.integers(1, 6), latent=st.integers(1, 4), batch=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_elbo_identity_holds_for_arbitrary_q(dim, latent, batch, seed):
    model = linear_model(dim, latent, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    x = 2 * torch.randn(batch, dim, generator=gen, dtype=DTYPE)
    mu = torch.randn(batch, latent, generator=gen, dtype=DTYPE)
    logvar = torch.randn(batch, latent, generator=gen, dtype=DTYPE)
    log_px = model.log_marginal(x)
    elbo = model.elbo(x, mu, logvar)
    kl = model.kl_to_posterior(x, mu, logvar)
    torch.testing.assert_close(elbo + kl, log_px, rtol=1e-10, atol=1e-10)
    assert (elbo <= log_px + 1e-12).all() and (kl >= -1e-12).all()


def test_marginal_is_the_integral_of_the_joint():
    """p(x) = ∫ p(x, z) dz checked by quadrature for a one-dimensional latent."""
    model = linear_model(3, 1, seed=5)
    x = torch.tensor([[0.3, -1.0, 2.0]], dtype=DTYPE)
    z = torch.linspace(-12, 12, 20001, dtype=DTYPE)[:, None, None]
    integral = torch.trapezoid(model.log_joint(x, z).exp(), dx=24 / 20000, dim=0)
    torch.testing.assert_close(integral.log(), model.log_marginal(x), rtol=1e-8, atol=1e-8)


def test_closed_form_elbo_matches_monte_carlo():
    model = linear_model(4, 2, seed=2)
    x = torch.randn(3, 4, dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    mu, logvar = torch.full((3, 2), 0.2, dtype=DTYPE), torch.full((3, 2), -0.5, dtype=DTYPE)
    torch.manual_seed(0)
    q = diagonal_gaussian(mu, logvar)
    z = q.sample((200_000,))
    log_w = model.log_joint(x, z) - q.log_prob(z)
    exact = model.elbo(x, mu, logvar)
    for i in range(3):
        assert monte_carlo(log_w[:, i]).agrees_with(exact[i].item())


def test_elbo_is_tight_at_the_posterior():
    model = linear_model(5, 3, seed=3, orthogonal=True)
    x = torch.randn(4, 5, dtype=DTYPE, generator=torch.Generator().manual_seed(1))
    post = model.posterior(x)
    cov = post.covariance_matrix
    torch.testing.assert_close(cov, torch.diag_embed(torch.diagonal(cov, dim1=-2, dim2=-1)), rtol=0, atol=1e-12)
    mu, logvar = post.mean, torch.diagonal(cov, dim1=-2, dim2=-1).log()
    torch.testing.assert_close(model.elbo(x, mu, logvar), model.log_marginal(x), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(model.kl_to_posterior(x, mu, logvar), torch.zeros(4, dtype=DTYPE), atol=1e-10,
                               rtol=0)


def test_linear_model_rejects_bad_shapes():
    with pytest.raises(ValueError, match="W has shape"):
        LinearGaussianModel(torch.zeros(3, 2), torch.zeros(2), 1.0)
    with pytest.raises(ValueError, match="noise_var"):
        LinearGaussianModel(torch.zeros(3, 2), torch.zeros(3), 0.0)
