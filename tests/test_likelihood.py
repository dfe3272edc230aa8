"""thesis_lib.likelihood: importance sampling (Def 3.2.7, Prop 3.2.8), the test likelihood and active units."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from latent_helpers import DTYPE, linear_model, small_vae
from thesis_lib.latent_models import diagonal_gaussian
from thesis_lib.likelihood import active_units, evaluate_likelihood, importance_sampled, vae_importance_sampled
from thesis_lib.monte_carlo import monte_carlo
from thesis_lib.vae import VAE, elbo_terms, fixed_binarisation


# --- importance sampling (Def 3.2.7, Prop 3.2.8) ----------------------------------------------

def test_importance_sampling_is_exact_with_the_posterior_in_any_chunking():
    model = linear_model(5, 3, seed=4, orthogonal=True)
    x = torch.randn(6, 5, dtype=DTYPE, generator=torch.Generator().manual_seed(2))
    post = model.posterior(x)
    q = diagonal_gaussian(post.mean, torch.diagonal(post.covariance_matrix, dim1=-2, dim2=-1).log())
    est = importance_sampled(lambda z: model.log_joint(x, z), q, k=37, chunk=5)
    torch.testing.assert_close(est.log_likelihood, model.log_marginal(x), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(est.elbo, model.log_marginal(x), rtol=1e-10, atol=1e-10)


def test_importance_sampling_draws_k_samples_chunk_at_a_time_and_names_bad_sizes():
    model = linear_model(4, 2, seed=1)
    x = torch.randn(3, 4, dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    q = diagonal_gaussian(torch.zeros(3, 2, dtype=DTYPE), torch.zeros(3, 2, dtype=DTYPE))
    for chunk, sizes in [(5, [5] * 7 + [2]), (None, [37]), (40, [37])]:
        seen = []
        est = importance_sampled(lambda z: seen.append(len(z)) or model.log_joint(x, z), q, k=37, chunk=chunk)
        assert seen == sizes and est.k == 37 and est.log_likelihood.shape == (3,)
    for bad in (dict(k=0), dict(k=3, chunk=0)):
        name = list(bad)[-1]
        with pytest.raises(ValueError, match=f"^{name}=0 is not allowed; it must be a positive integer$"):
            importance_sampled(lambda z: model.log_joint(x, z), q, **bad)


def test_importance_bound_increases_with_k_and_converges_to_log_px():
    """E[L_1] = ELBO < E[L_4] < E[L_16] and L_1000 agrees with the exact log p(x) (200 replicas each)."""
    model = linear_model(4, 2, seed=6)
    x = torch.randn(1, 4, dtype=DTYPE, generator=torch.Generator().manual_seed(3)).expand(200, -1)
    post = model.posterior(x[:1])
    mu = post.mean + 0.3
    logvar = torch.diagonal(post.covariance_matrix, dim1=-2, dim2=-1).log() + 0.5
    q = diagonal_gaussian(mu.expand(200, -1), logvar.expand(200, -1))
    torch.manual_seed(0)
    log_px = model.log_marginal(x[:1]).item()
    exact_elbo = model.elbo(x[:1], mu, logvar).item()
    means = [monte_carlo(importance_sampled(lambda z: model.log_joint(x, z), q, k, chunk=300).log_likelihood)
             for k in (1, 4, 16, 1000)]
    assert means[0].agrees_with(exact_elbo)
    for a, b in zip(means[:3], means[1:3]):
        assert b.mean - a.mean > 3 * math.hypot(a.standard_error, b.standard_error)
    assert means[-1].agrees_with(log_px) and means[-1].tolerance() < 0.02 < 1 < log_px - exact_elbo


def test_vae_importance_sampling_bounds_the_elbo():
    model = small_vae()
    x = torch.bernoulli(torch.rand(1, 16, dtype=DTYPE, generator=torch.Generator().manual_seed(5))).expand(2000, -1)
    torch.manual_seed(0)
    one = monte_carlo(vae_importance_sampled(model, x, k=1).log_likelihood)
    many = vae_importance_sampled(model, x, k=50, max_rows=10_000)
    rec, kl = elbo_terms(model, x)
    assert monte_carlo(-(rec + kl)).agrees_with(one.mean)  # L_1 is the one-sample ELBO
    assert (many.log_likelihood >= many.elbo - 1e-9).all()  # Jensen, sample by sample
    fifty = monte_carlo(many.log_likelihood)
    assert fifty.mean - one.mean > 5 * math.hypot(one.standard_error, fifty.standard_error)


def test_evaluate_likelihood_is_seeded_and_consistent():
    model = small_vae().float()
    with torch.no_grad():  # move the encoder's means off 0, so that the KL term is not negligible
        list(model.encoder.parameters())[-1][:model.latent] += 2.0
    x = fixed_binarisation(torch.randint(0, 256, (30, 4, 4), dtype=torch.uint8))
    a = evaluate_likelihood(model, x, k=20, batch_size=7)
    b = evaluate_likelihood(model, x, k=20, batch_size=7)
    assert a == b and a.images == 30 and a.k == 20
    assert a.nll < a.negative_elbo
    # the KL term is the closed form of the encoder's Gaussians against N(0, I), averaged over the images
    with torch.no_grad():
        mu, logvar = model.encoder(x).chunk(2, -1)
        closed_kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros_like(mu), 1.0)).sum(-1)
        draws = torch.stack([elbo_terms(model, x)[0] for _ in range(200)])  # one-sample reconstructions
    assert math.isclose(a.kl, closed_kl.mean().item(), rel_tol=1e-5)
    # the -ELBO over the k samples is their mean reconstruction plus the same KL; it and the one-sample
    # reconstruction both estimate E_q[-log p(x|z)], within 5 standard errors of 30 one-sample draws
    se = draws.mean(1).std().item()
    assert abs((a.negative_elbo - a.kl) - a.reconstruction) < 5 * se
    assert abs(a.reconstruction - draws.mean().item()) < 5 * se


def test_active_units_count_the_mean_coordinates_that_vary_over_the_data():
    torch.manual_seed(0)
    model = VAE((16, 12), latent=5).double()
    last = model.encoder.layers[-1]  # its first 5 outputs are μ
    with torch.no_grad():
        last.W[:2].zero_()           # μ_1, μ_2: the bias alone, the same for every x
        last.W[2].mul_(1e-3)         # μ_3: varies, but far below the threshold
        last.W[3:5].mul_(20)         # μ_4, μ_5: vary well above it
    x = torch.rand(500, 16, dtype=torch.float64)
    mu = model.encode(x)[0].detach().numpy()
    by_numpy = int((np.diag(np.cov(mu, rowvar=False)) > 1e-2).sum())
    assert active_units(model, x, batch_size=128) == by_numpy == 2
    assert active_units(model, x, threshold=0.0) == 3
    with pytest.raises(ValueError, match="at least 2"):
        active_units(model, x[:1])
