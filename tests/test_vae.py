"""thesis_lib.vae against closed forms, torch.distributions and the identities of §3.2."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Bernoulli, Normal, kl_divergence

from thesis_lib.book.plots import tile
from thesis_lib.book.widgets.vae_latent import (
    interpolation_explorer,
    interpolation_figure,
    latent_explorer,
    latent_manifold_figure,
)
from thesis_lib.generation import interpolate, latent_grid, nearest_neighbours, sample_prior
from thesis_lib.gradient_estimators import (
    estimator_variance,
    pathwise_gradients,
    reparameterise,
    score_function_gradients,
    sine_sum,
    sine_sum_gradient,
)
from thesis_lib.latent_models import LinearGaussianModel, diagonal_gaussian
from thesis_lib.likelihood import evaluate_likelihood, importance_sampled, vae_importance_sampled
from thesis_lib.losses import bce_sum
from thesis_lib.monte_carlo import monte_carlo
from thesis_lib.vae import (
    VAE,
    beta_negative_elbo,
    elbo_terms,
    fixed_binarisation,
    importance_log_weights,
    negative_elbo,
    negative_iwae_bound,
    set_output_bias,
    squared_error_negative_elbo,
    train_mean_logit,
)

DTYPE = torch.float64


def linear_model(dim: int, latent: int, seed: int, orthogonal: bool = False) -> LinearGaussianModel:
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(dim, latent, generator=gen, dtype=DTYPE)
    if orthogonal:
        W = torch.linalg.qr(W)[0] * torch.linspace(0.5, 2.0, latent, dtype=DTYPE)
    return LinearGaussianModel(W, torch.randn(dim, generator=gen, dtype=DTYPE), 0.3)


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


# --- gradient estimators (Prop 3.2.5) ---------------------------------------------------------

def test_reparameterise_draws_the_gaussian():
    torch.manual_seed(0)
    mu, logvar = torch.tensor([1.0, -2.0]), torch.tensor([0.0, math.log(4.0)])
    z = reparameterise(mu.expand(100_000, -1), logvar.expand(100_000, -1))
    for j, (m, s) in enumerate([(1.0, 1.0), (-2.0, 2.0)]):
        assert monte_carlo(z[:, j]).agrees_with(m)
        assert monte_carlo((z[:, j] - m) ** 2).agrees_with(s ** 2)
    eps = torch.tensor([0.5, -1.0])
    torch.testing.assert_close(reparameterise(mu, logvar, eps), torch.tensor([1.5, -4.0]))


@pytest.mark.parametrize("estimator", [pathwise_gradients, score_function_gradients])
def test_gradient_estimators_are_unbiased(estimator):
    """∇_μ E[Σ sin z] = cos(μ) exp(-σ²/2) for z ~ N(μ, σ²): each estimator within its own error bar."""
    torch.manual_seed(1)
    mu = torch.tensor([0.3, -1.2, 2.0], dtype=DTYPE)
    logvar = torch.tensor([-1.0, 0.0, 0.5], dtype=DTYPE)
    grads = estimator(sine_sum, mu, logvar, 40_000)
    exact = sine_sum_gradient(mu, logvar)
    for j in range(3):
        assert monte_carlo(grads[:, j]).agrees_with(exact[j].item())


def test_the_sine_sum_gradient_matches_gauss_hermite_quadrature_differentiated_by_autograd():
    nodes, weights = (torch.from_numpy(a) for a in np.polynomial.hermite.hermgauss(60))
    mu = torch.tensor([0.3, -1.2, 2.0], dtype=DTYPE, requires_grad=True)
    logvar = torch.tensor([-1.0, 0.0, 0.5], dtype=DTYPE)
    z = mu[:, None] + (0.5 * logvar).exp()[:, None] * math.sqrt(2) * nodes  # E_q f = Σ w f(z) / √π
    expectation = (weights * torch.sin(z)).sum() / math.sqrt(math.pi)
    (quadrature,) = torch.autograd.grad(expectation, mu)
    torch.testing.assert_close(sine_sum_gradient(mu.detach(), logvar), quadrature, rtol=1e-10, atol=1e-12)


def test_estimator_variance_of_the_pathwise_estimator_is_var_cos():
    """The pathwise estimate of ∂_μ1 E sin z is cos(μ + σε): its variance is (1 + cos 2μ e^{-2σ²})/2 − cos²μ e^{-σ²}."""
    torch.manual_seed(3)
    mu, sigma = torch.tensor([0.5], dtype=DTYPE), 0.7
    logvar = torch.full_like(mu, 2 * math.log(sigma))
    n = 200_000
    variance = estimator_variance(pathwise_gradients, sine_sum, mu, logvar, n)
    m, s2 = 0.5, sigma ** 2
    exact = (1 + math.cos(2 * m) * math.exp(-2 * s2)) / 2 - math.cos(m) ** 2 * math.exp(-s2)
    assert abs(variance - exact) < 0.02 * exact


def test_reparameterisation_has_lower_variance():
    torch.manual_seed(2)
    mu, logvar = torch.zeros(10, dtype=DTYPE), torch.full((10,), math.log(0.25), dtype=DTYPE)
    path = pathwise_gradients(sine_sum, mu, logvar, 20_000).var(0)
    score = score_function_gradients(sine_sum, mu, logvar, 20_000).var(0)
    assert (score > 10 * path).all()


def test_estimators_reject_a_batch_of_gaussians():
    with pytest.raises(ValueError, match="mu has shape"):
        pathwise_gradients(sine_sum, torch.zeros(2, 3), torch.zeros(2, 3), 5)
    with pytest.raises(ValueError, match="n=0"):
        score_function_gradients(sine_sum, torch.zeros(3), torch.zeros(3), 0)


# --- the VAE and its objective (Def 3.2.6) ----------------------------------------------------

def small_vae(**kw):
    torch.manual_seed(0)
    return VAE((16, 8), latent=3, **kw).double()


def test_vae_shapes_and_networks():
    model = small_vae()
    assert model.encoder.widths == (16, 8, 6) and model.decoder.widths == (3, 8, 16)
    mu, logvar = model.encode(torch.rand(5, 4, 4, dtype=DTYPE))
    assert mu.shape == logvar.shape == (5, 3)
    assert model.decode(mu).shape == (5, 16) and model(torch.rand(5, 16, dtype=DTYPE)).shape == (5, 16)
    with pytest.raises(ValueError, match="beta"):
        VAE((16, 8), 3, beta=0)
    with pytest.raises(ValueError, match="latent"):
        VAE((16, 8), 0)


def test_elbo_terms_match_torch_distributions():
    model = small_vae()
    gen = torch.Generator().manual_seed(3)
    x = torch.bernoulli(torch.rand(7, 16, dtype=DTYPE, generator=gen), generator=gen)
    eps = torch.randn(7, 3, dtype=DTYPE, generator=gen)
    rec, kl = elbo_terms(model, x, eps)
    mu, logvar = model.encoder(x).chunk(2, -1)
    q = Normal(mu, (0.5 * logvar).exp())
    z = mu + q.scale * eps
    expected_rec = -Bernoulli(logits=model.decoder(z)).log_prob(x).sum(-1)
    expected_kl = kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    torch.testing.assert_close(rec, expected_rec)
    torch.testing.assert_close(kl, expected_kl)
    # the reconstruction term is Ex 2.2.2's BCE summed over the pixels (not averaged)
    torch.testing.assert_close(rec, bce_sum(x, torch.sigmoid(model.decoder(z)), batch="none"))


def test_negative_elbo_binarises_dynamically_and_beta_weights_the_kl():
    model = small_vae(beta=2.5)
    x = torch.rand(6, 16, dtype=DTYPE, generator=torch.Generator().manual_seed(4))
    torch.manual_seed(9)
    value = negative_elbo(model, x)
    torch.manual_seed(9)
    xb = torch.bernoulli(x)
    rec, kl = elbo_terms(model, xb)
    torch.testing.assert_close(value, (rec + kl).mean())
    torch.manual_seed(9)
    torch.testing.assert_close(beta_negative_elbo(model, x), (rec + 2.5 * kl).mean())
    torch.manual_seed(10)
    assert not torch.equal(negative_elbo(model, x), value)


def test_negative_elbo_gradient_flows_through_encoder_and_decoder():
    model = small_vae()
    negative_elbo(model, torch.rand(4, 16, dtype=DTYPE)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_a_kl_weight_scales_the_kl_term_of_both_elbos():
    model = small_vae(beta=2.0)
    x = torch.bernoulli(torch.rand(5, 16, dtype=DTYPE, generator=torch.Generator().manual_seed(2)))
    torch.manual_seed(1)
    rec, kl = elbo_terms(model, torch.bernoulli(x))
    for objective, beta in ((negative_elbo, 1.0), (beta_negative_elbo, 2.0)):
        torch.manual_seed(1)
        torch.testing.assert_close(objective(model, x, kl_weight=0.25), (rec + 0.25 * beta * kl).mean())


def test_importance_log_weights_match_torch_distributions():
    model = small_vae()
    gen = torch.Generator().manual_seed(5)
    x = torch.bernoulli(torch.rand(6, 16, dtype=DTYPE, generator=gen), generator=gen)
    eps = torch.randn(4, 6, 3, dtype=DTYPE, generator=gen)
    mu, logvar = model.encoder(x).chunk(2, -1)
    q = Normal(mu, (0.5 * logvar).exp())
    z = mu + q.scale * eps
    expected = (Bernoulli(logits=model.decoder(z)).log_prob(x).sum(-1) + Normal(0.0, 1.0).log_prob(z).sum(-1)
                - q.log_prob(z).sum(-1))
    torch.testing.assert_close(importance_log_weights(model, x, eps), expected)


def test_the_iwae_bound_is_the_importance_estimate_and_tighter_than_the_elbo():
    """-L_k with k = 5 equals -log mean exp(log w) of the same draws, has gradients, and on average
    lies below the negative ELBO (L_1 <= L_5, Burda et al. 2015, Thm 1)."""
    model = small_vae()
    x = torch.bernoulli(torch.rand(200, 16, dtype=DTYPE, generator=torch.Generator().manual_seed(6)))
    torch.manual_seed(3)
    value = negative_iwae_bound(model, x, k=5)
    torch.manual_seed(3)
    xb = torch.bernoulli(x)
    eps = torch.randn(5, 200, 3, dtype=DTYPE)
    log_w = importance_log_weights(model, xb, eps)
    torch.testing.assert_close(value, -(log_w.exp().mean(0)).log().mean())
    value.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    with torch.no_grad():
        torch.manual_seed(4)
        iwae = torch.stack([negative_iwae_bound(model, x, k=5) for _ in range(20)]).mean()
        torch.manual_seed(4)
        elbo = torch.stack([negative_iwae_bound(model, x, k=1) for _ in range(20)]).mean()
        analytic = sum(t.mean() for t in elbo_terms(model, x))
    assert iwae < elbo - 0.05
    assert abs(elbo - analytic) < 0.05 * analytic
    with pytest.raises(ValueError, match="k="):
        negative_iwae_bound(model, x, k=0)


def test_the_output_bias_is_burdas_clipped_logit_of_the_mean_pixel():
    images = torch.randint(0, 256, (40, 4, 4), dtype=torch.uint8)
    images[:, 0, 0] = 0
    images[:, 0, 1] = 255
    mean = images.reshape(40, -1).numpy().mean(0) / 255
    expected = -np.log(1.0 / np.clip(mean, 0.001, 0.999) - 1.0)
    np.testing.assert_allclose(train_mean_logit(images).numpy(), expected, rtol=1e-5)
    model = small_vae().float()
    set_output_bias(model, train_mean_logit(images))
    with torch.no_grad():
        model.decoder.layers[-1].W.zero_()
        decoded = model.decode_mean(torch.randn(3, 3))
    np.testing.assert_allclose(decoded.numpy(), np.broadcast_to(np.clip(mean, 0.001, 0.999), (3, 16)), rtol=1e-5)
    with pytest.raises(ValueError, match=r"bias has shape \(15,\)"):
        set_output_bias(model, torch.zeros(15))


def test_the_squared_error_elbo_is_the_gaussian_likelihood_with_variance_one_half_or_its_pixel_mean():
    """Σ_i (x_i − m_i)² = −log N(x; m, ½ I) − (d/2) log π; the mean over pixels is that sum over d."""
    model = small_vae()
    x = torch.rand(6, 16, dtype=DTYPE, generator=torch.Generator().manual_seed(8))
    torch.manual_seed(2)
    total = squared_error_negative_elbo(model, x)
    torch.manual_seed(2)
    mean_version = squared_error_negative_elbo(model, x, pixels="mean")
    torch.manual_seed(2)
    mu, logvar = model.encoder(x).chunk(2, -1)
    m = torch.sigmoid(model.decoder(mu + (0.5 * logvar).exp() * torch.randn_like(mu)))
    nll = -Normal(m, math.sqrt(0.5)).log_prob(x).sum(-1) - 8 * math.log(math.pi)
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(total, (nll + kl).mean())
    torch.testing.assert_close(mean_version, (nll / 16 + kl).mean())
    with pytest.raises(ValueError, match="pixels='max' is not allowed"):
        squared_error_negative_elbo(model, x, pixels="max")


def test_fixed_binarisation_is_seeded():
    images = torch.randint(0, 256, (50, 4, 4), dtype=torch.uint8)
    a, b = fixed_binarisation(images, 1), fixed_binarisation(images, 1)
    assert torch.equal(a, b) and a.shape == (50, 16) and set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(a, fixed_binarisation(images, 2))
    assert torch.equal(fixed_binarisation(torch.full((3, 4), 255, dtype=torch.uint8)), torch.ones(3, 4))
    with pytest.raises(ValueError, match="uint8"):
        fixed_binarisation(images.float())


# --- importance sampling (Def 3.2.7, Prop 3.2.8) ----------------------------------------------

def test_importance_sampling_is_exact_with_the_posterior_in_any_chunking():
    model = linear_model(5, 3, seed=4, orthogonal=True)
    x = torch.randn(6, 5, dtype=DTYPE, generator=torch.Generator().manual_seed(2))
    post = model.posterior(x)
    q = diagonal_gaussian(post.mean, torch.diagonal(post.covariance_matrix, dim1=-2, dim2=-1).log())
    est = importance_sampled(lambda z: model.log_joint(x, z), q, k=37, chunk=5)
    torch.testing.assert_close(est.log_likelihood, model.log_marginal(x), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(est.elbo, model.log_marginal(x), rtol=1e-10, atol=1e-10)


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


# --- generation -------------------------------------------------------------------------------

def test_latent_grid_is_the_inverse_normal_cdf():
    grid = latent_grid(5, 0.1, 0.9)
    u = torch.linspace(0.1, 0.9, 5)
    values = torch.tensor([Normal(0.0, 1.0).icdf(t).item() for t in u])
    torch.testing.assert_close(grid[:5, 0], values)  # first row: z_1 left to right
    torch.testing.assert_close(grid[::5, 1], values.flip(0))  # first column: z_2 top to bottom
    with pytest.raises(ValueError, match="low"):
        latent_grid(3, 0.0, 0.9)


def test_sampling_and_interpolation():
    model = small_vae().float()
    gen = torch.Generator().manual_seed(0)
    samples = sample_prior(model, 8, gen)
    assert samples.shape == (8, 16) and ((samples >= 0) & (samples <= 1)).all()
    a, b = torch.rand(16), torch.rand(16)
    path = interpolate(model, a, b, 5)
    with torch.no_grad():
        ends = model(torch.stack([a, b]))
    torch.testing.assert_close(path[[0, -1]], ends)


def test_nearest_neighbours_match_brute_force():
    gen = torch.Generator().manual_seed(0)
    refs = torch.randint(0, 256, (300, 3, 3), dtype=torch.uint8, generator=gen)
    queries = torch.rand(10, 3, 3, generator=gen)
    dist, idx = nearest_neighbours(queries, refs, batch_size=64)
    full = ((queries.reshape(10, 1, 9) - refs.reshape(1, 300, 9).float() / 255) ** 2).sum(-1).sqrt()
    torch.testing.assert_close(dist, full.min(1).values, rtol=1e-4, atol=1e-4)
    # the index found is a nearest neighbour (two orders of summation may break a near-tie differently)
    torch.testing.assert_close(full.gather(1, idx[:, None])[:, 0], full.min(1).values, rtol=1e-4, atol=1e-4)


# --- the latent-space explorers (widgets/vae_latent.py) ---------------------------------------

def test_manifold_figure_shows_the_decoded_grid():
    torch.manual_seed(0)
    model = VAE((16, 8), latent=2)
    fig = latent_manifold_figure(model, n=4, codes=torch.randn(20, 2), labels=torch.randint(0, 10, (20,)))
    shown = torch.tensor(fig.axes[1].images[0].get_array())
    with torch.no_grad():
        expected = tile(model.decode_mean(latent_grid(4)).reshape(-1, 4, 4), 4)
    torch.testing.assert_close(shown, expected)
    plt.close("all")


def test_explorers_redraw_what_the_sliders_ask_for(shown_by):
    import thesis_lib.book.widgets.vae_latent as explorers

    shown = shown_by(explorers)
    torch.manual_seed(0)
    model = VAE((16, 8), latent=2)
    z1, z2 = latent_explorer(model).children[0].children
    z1.value, z2.value = 1.5, -0.5
    with torch.no_grad():
        expected = model.decode_mean(torch.tensor([[1.5, -0.5]])).reshape(4, 4)
    torch.testing.assert_close(torch.as_tensor(shown[-1].axes[1].get_images()[0].get_array()), expected)
    x_a, x_b = torch.rand(16), torch.rand(16)
    slider = interpolation_explorer(model, x_a, x_b).children[0]
    slider.value = 1.0
    with torch.no_grad():
        end = model.decode_mean(model.encode(x_b[None])[0]).reshape(4, 4)
    torch.testing.assert_close(torch.as_tensor(shown[-1].axes[1].get_images()[0].get_array()), end)
    fig = interpolation_figure(model, [(torch.rand(16), torch.rand(16))], steps=4)
    assert len(fig.axes) == 6
    plt.close("all")
    with pytest.raises(ValueError, match="latent=3"):
        latent_explorer(VAE((16, 8), latent=3))
    with pytest.raises(ValueError, match="square"):
        latent_manifold_figure(VAE((15, 8), latent=2))


def test_active_units_count_the_mean_coordinates_that_vary_over_the_data():
    from thesis_lib.likelihood import active_units

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
