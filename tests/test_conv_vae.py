"""thesis_lib.conv_vae: the label maps against maps drawn by hand with NumPy, the objective against
torch.distributions, generation against the decoder run by hand."""

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from thesis_lib.conv_vae import ConvVAE, canvas_negative_elbo, generate, slot_maps


def test_label_maps_mark_the_left_digit_on_the_left_half_and_the_right_digit_on_the_right():
    requests = torch.tensor([[3, 7], [5, 5]])
    expected = np.zeros((2, 10, 6, 6), dtype=np.float32)
    expected[0, 3, :, :3] = expected[0, 7, :, 3:] = 1
    expected[1, 5] = 1
    np.testing.assert_array_equal(slot_maps(requests, 6).numpy(), expected)
    assert slot_maps(requests, 5)[0, 7, :, 2:].sum() == 15  # an odd side gives the right slot the middle column


def test_objective_matches_torch_distributions_for_both_kinds():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4, 48, 48, dtype=torch.float64, generator=gen)
    y = torch.randint(10, (4, 2), generator=gen)
    for conditional in (True, False):
        torch.manual_seed(1)
        model = ConvVAE(latent=3, channels=(2, 3, 4), conditional=conditional).double()
        torch.manual_seed(5)
        value = canvas_negative_elbo(model, x, y)
        torch.manual_seed(5)
        xb = torch.bernoulli(x).reshape(4, -1)
        requests = y if conditional else None
        mu, logvar = model.encode(xb, requests)
        q = Normal(mu, (0.5 * logvar).exp())
        z = mu + q.scale * torch.randn_like(mu)
        rec = -Bernoulli(logits=model.decode(z, requests)).log_prob(xb).sum(-1)
        kl = kl_divergence(q, Normal(0.0, 1.0)).sum(-1)
        torch.testing.assert_close(value, (rec + kl).mean())
        assert model.decode(z, requests).shape == (4, 48 * 48)


def test_the_request_changes_what_a_conditional_vae_decodes():
    torch.manual_seed(2)
    model = ConvVAE(latent=2, channels=(2, 2, 2))
    z = torch.zeros(1, 2)
    a = model.decode_mean(z, torch.tensor([[1, 2]]))
    b = model.decode_mean(z, torch.tensor([[1, 3]]))
    assert (a - b).abs().max() > 1e-5


def test_generate_decodes_prior_draws_with_the_requests():
    torch.manual_seed(3)
    model = ConvVAE(latent=2, channels=(2, 2, 2))
    requests = torch.tensor([[0, 9], [4, 4], [8, 1]])
    out = generate(model, 3, requests, torch.Generator().manual_seed(4))
    z = torch.randn(3, 2, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = torch.sigmoid(model.decode(z, requests)).reshape(3, 48, 48)
    torch.testing.assert_close(out, expected)
    plain = ConvVAE(latent=2, channels=(2, 2, 2), conditional=False)
    assert generate(plain, 5).shape == (5, 48, 48)


def test_bad_requests_name_what_is_allowed():
    model = ConvVAE(latent=2, channels=(2, 2, 2))
    with pytest.raises(ValueError, match=r"this VAE is conditional: give requests \[B, 2\]"):
        model.decode(torch.zeros(1, 2))
    with pytest.raises(ValueError, match="this VAE is not conditional: requests must be None"):
        ConvVAE(latent=2, channels=(2, 2, 2), conditional=False).encode(torch.zeros(1, 48, 48), torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"requests.shape=\(3,\) is not allowed"):
        slot_maps(torch.tensor([1, 2, 3]), 6)
    with pytest.raises(ValueError, match=r"requests has 2 rows; give one per canvas \(n=3\)"):
        generate(model, 3, torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="latent=0 is not allowed"):
        ConvVAE(latent=0)
