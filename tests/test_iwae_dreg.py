"""DReG (Tucker et al. 2019), :func:`thesis_lib.vae.negative_iwae_bound_dreg`, against references:
the IWAE bound's autograd gradient (its decoder part exactly, its encoder part in expectation) and,
at k = 1, the "sticking the landing" gradient written with torch.distributions."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal

from thesis_lib.vae import VAE, importance_log_weights, negative_iwae_bound_dreg

K = 5


def setup(seed=0, batch=6, pixels=20, latent=2):
    torch.manual_seed(seed)
    model = VAE((pixels, 8), latent, activation=torch.tanh)
    x = torch.bernoulli(torch.rand(batch, pixels))  # already binary: binarise keeps it
    return model, x


def gradients(model, loss):
    model.zero_grad()
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def iwae_loss(model, x, eps):
    """-L_k written from its definition, differentiated by autograd."""
    return (math.log(len(eps)) - torch.logsumexp(importance_log_weights(model, x, eps), dim=0)).mean()


def test_the_value_is_the_iwae_bound_and_the_decoder_gradient_is_the_iwaes():
    model, x = setup()
    eps = torch.randn(K, len(x), model.latent)
    dreg = negative_iwae_bound_dreg(model, x, eps=eps)
    iwae = iwae_loss(model, x, eps)
    torch.testing.assert_close(dreg, iwae)
    g_dreg, g_iwae = gradients(model, dreg), gradients(model, iwae_loss(model, x, eps))
    for name in g_dreg:
        if name.startswith("decoder"):
            torch.testing.assert_close(g_dreg[name], g_iwae[name])
    assert any(not torch.allclose(g_dreg[n], g_iwae[n]) for n in g_dreg if n.startswith("encoder"))


def test_at_k_1_it_is_the_sticking_the_landing_gradient():
    """log p(x|z) + log p(z) - log q(z|x) with q's parameters held fixed (Roeder et al. 2017)."""
    model, x = setup(seed=1)
    eps = torch.randn(1, len(x), model.latent)
    mu, logvar = model.encode(x)
    z = mu + (0.5 * logvar).exp() * eps[0]
    log_w = (Bernoulli(logits=model.decode(z)).log_prob(x).sum(-1) + Normal(0.0, 1.0).log_prob(z).sum(-1)
             - Normal(mu.detach(), (0.5 * logvar.detach()).exp()).log_prob(z).sum(-1))
    reference = gradients(model, -log_w.mean())
    ours = gradients(model, negative_iwae_bound_dreg(model, x, k=1, eps=eps))
    for name in reference:
        torch.testing.assert_close(ours[name], reference[name])


@pytest.mark.slow
def test_its_encoder_gradient_is_unbiased_for_the_iwae_bounds_and_less_noisy():
    """Means over 2,000 draws of the noise agree within 5 standard errors with those of the IWAE
    bound's own gradient (itself unbiased for ∇L_k); DReG's variance is lower."""
    model, x = setup(seed=2, batch=1)
    draws = {"dreg": [], "iwae": []}
    torch.manual_seed(3)
    for _ in range(2000):
        eps = torch.randn(K, 1, model.latent)
        for name, loss in (("dreg", negative_iwae_bound_dreg(model, x, eps=eps)), ("iwae", iwae_loss(model, x, eps))):
            g = gradients(model, loss)
            draws[name].append(torch.cat([v.flatten() for n, v in g.items() if n.startswith("encoder")]))
    dreg, iwae = torch.stack(draws["dreg"]).double(), torch.stack(draws["iwae"]).double()
    se = (dreg.var(0) / len(dreg) + iwae.var(0) / len(iwae)).sqrt()
    informative = se > 1e-6
    z = ((dreg.mean(0) - iwae.mean(0)).abs() / se)[informative]
    assert informative.sum() > 10 and z.max() < 5, z.max()
    assert dreg.var(0).sum() < 0.5 * iwae.var(0).sum()


def test_encoder_gradient_draws_are_the_autograd_gradients_of_seeded_draws():
    """Each row is the encoder part of what autograd gives for the objective with the noise that
    torch's generator, seeded once, draws in that order; the caller's random state is untouched."""
    from thesis_lib.vae import encoder_gradient_draws, negative_iwae_bound

    model, x = setup(seed=4, batch=3)
    torch.manual_seed(11)
    before = torch.get_rng_state()
    draws = encoder_gradient_draws(model, x, negative_iwae_bound, 3, seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(5)
    for row in draws:
        g = gradients(model, negative_iwae_bound(model, x))
        expected = torch.cat([v.flatten() for n, v in g.items() if n.startswith("encoder")])
        torch.testing.assert_close(row, expected)
    assert draws.shape == (3, sum(p.numel() for p in model.encoder.parameters()))
    assert not torch.allclose(draws[0], draws[1])


def test_without_noise_given_it_draws_the_noise_of_the_iwae_bound():
    """Seeded alike, the DReG objective draws the same binarisation and noise [k, B, latent] (in the
    images' dtype) as :func:`negative_iwae_bound`, so its value is the same -L_k; k and draws are checked."""
    from thesis_lib.vae import encoder_gradient_draws, negative_iwae_bound

    torch.manual_seed(0)
    model = VAE((12, 8), latent=3).double()
    x = torch.rand(4, 12, dtype=torch.float64)
    torch.manual_seed(1)
    dreg = negative_iwae_bound_dreg(model, x, k=3)
    torch.manual_seed(1)
    torch.testing.assert_close(dreg, negative_iwae_bound(model, x, k=3))
    with pytest.raises(ValueError, match="^k=0 is not allowed"):
        negative_iwae_bound_dreg(model, x, k=0)
    binary = torch.bernoulli(x, generator=torch.Generator().manual_seed(2))
    default = encoder_gradient_draws(model, binary, negative_iwae_bound_dreg, draws=2)
    torch.testing.assert_close(default, encoder_gradient_draws(model, binary, negative_iwae_bound_dreg, 2, seed=0))
    with pytest.raises(ValueError, match="^draws=0 is not allowed"):
        encoder_gradient_draws(model, binary, negative_iwae_bound_dreg, draws=0)
