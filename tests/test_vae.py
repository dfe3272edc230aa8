"""thesis_lib.vae against closed forms, torch.distributions and the identities of §3.2."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from latent_helpers import DTYPE, small_vae
from thesis_lib.losses import bce_sum
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


# --- the VAE and its objective (Def 3.2.6) ----------------------------------------------------

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


def test_the_default_vae_and_its_refusals():
    model = VAE()
    assert (model.latent, model.beta, model.encoder.widths) == (20, 1.0, (784, 400, 40))
    with pytest.raises(ValueError, match="^latent=0 is not allowed"):
        VAE((4, 3), latent=0)
    with pytest.raises(ValueError, match="^beta=0 is not allowed"):
        VAE((4, 3), latent=1, beta=0)


def test_the_vae_is_its_linear_layers_written_out():
    """F.linear with the model's weights and tanh between layers: the encoder's last layer gives (μ,
    log σ²) with no activation, the decoder's gives logits; the forward pass decodes z = μ."""
    torch.manual_seed(3)
    model = VAE((6, 5), latent=2, activation=torch.tanh)
    x = torch.rand(3, 6)
    (W1, b1), (W2, b2) = model.encoder.theta
    code = torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(x, W1, b1)), W2, b2)
    torch.testing.assert_close(torch.cat(model.encode(x), 1), code)
    (V1, c1), (V2, c2) = model.decoder.theta
    hidden = torch.tanh(torch.nn.functional.linear(code[:, :2], V1, c1))
    torch.testing.assert_close(model(x), torch.sigmoid(torch.nn.functional.linear(hidden, V2, c2)))


def test_fixed_binarisation_defaults_to_seed_0_and_the_output_bias_goes_to_the_last_layer():
    images = torch.randint(0, 256, (20, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(fixed_binarisation(images), fixed_binarisation(images, 0))
    floats = images.float() / 255
    torch.testing.assert_close(train_mean_logit(floats), train_mean_logit(images))
    deep = VAE((16, 8, 4), latent=2)
    set_output_bias(deep, torch.full((16,), 0.25))
    assert torch.equal(deep.decoder.layers[-1].b, torch.full((16,), 0.25))
    assert not torch.equal(deep.decoder.layers[1].b, torch.full((8,), 0.25))


def test_the_iwae_bound_takes_five_samples_unless_told():
    model = small_vae().float()
    x = torch.rand(4, 16)
    torch.manual_seed(5)
    default = negative_iwae_bound(model, x)
    torch.manual_seed(5)
    assert default == negative_iwae_bound(model, x, k=5)


@pytest.mark.parametrize("objective", [negative_elbo, squared_error_negative_elbo])
def test_a_diverged_encoder_gives_a_nan_objective_not_an_error(objective):
    """The objectives do not read values back to check them (a host sync every step): a NaN code shows
    as a NaN loss, as chapter 2.2's diverging run shows it."""
    model = small_vae().float()
    with torch.no_grad():
        model.encoder.layers[-1].b.fill_(float("nan"))
    assert objective(model, torch.rand(3, 16)).isnan()
