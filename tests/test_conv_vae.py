"""thesis_lib.conv_vae: the label maps against maps drawn by hand with NumPy, the objective against
torch.distributions, generation against the decoder run by hand."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
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
    with pytest.raises(ValueError, match=r"^this VAE is conditional: give requests \[B, 2\] \(left digit, "
                                         r"right digit\)$"):
        model.decode(torch.zeros(1, 2))
    with pytest.raises(ValueError, match="^this VAE is not conditional: requests must be None$"):
        ConvVAE(latent=2, channels=(2, 2, 2), conditional=False).encode(torch.zeros(1, 48, 48), torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"requests.shape=\(3,\) is not allowed"):
        slot_maps(torch.tensor([1, 2, 3]), 6)
    with pytest.raises(ValueError, match=r"requests has 2 rows; give one per canvas \(n=3\)"):
        generate(model, 3, torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="latent=0 is not allowed"):
        ConvVAE(latent=0)
    with pytest.raises(ValueError, match=r"^\(channels\.\.\., 1\)=\(2, 0, 2, 1\) is not allowed"):
        ConvVAE(channels=(2, 0, 2))


def _maps(requests, size):
    """The label maps written out with NumPy (left half: the left digit's channel, right half: the right's)."""
    out = np.zeros((len(requests), 10, size, size), dtype=np.float32)
    for i, (a, b) in enumerate(requests.tolist()):
        out[i, a, :, :size // 2] = 1
        out[i, b, :, size // 2:] = 1
    return torch.from_numpy(out)


def test_encoder_and_decoder_are_torchs_layers_written_out():
    """torch.nn.functional with the model's weights: stride-2 3×3 convolutions (padding 1, ReLU) with
    the label maps joined before each, a linear (identity) code layer split into μ and log σ²; a ReLU
    layer from (z, one-hot request), then maps joined, nearest ×2 upsampling and 3×3 convolutions
    (ReLU, identity on the last)."""
    torch.manual_seed(6)
    model = ConvVAE(latent=3, channels=(2, 3, 4))
    x, requests = torch.rand(2, 48, 48), torch.tensor([[3, 7], [0, 9]])
    h = x.reshape(2, 1, 48, 48)
    for conv in model.down:
        h = F.relu(F.conv2d(torch.cat([h, _maps(requests, h.shape[-1])], 1), conv.kernel, conv.bias, stride=2,
                            padding=1))
    code = F.linear(h.flatten(1), model.to_code.W, model.to_code.b)
    mu, logvar = model.encode(x, requests)
    torch.testing.assert_close(torch.cat([mu, logvar], 1), code)
    z = torch.randn(2, 3)
    onehot = F.one_hot(requests, 10).flatten(1).float()
    h = F.relu(F.linear(torch.cat([z, onehot], 1), model.from_code.W, model.from_code.b)).reshape(2, 4, 6, 6)
    for i, conv in enumerate(model.up):
        h = torch.cat([h, _maps(requests, h.shape[-1])], 1)
        h = F.conv2d(F.interpolate(h, scale_factor=2, mode="nearest"), conv.kernel, conv.bias, padding=1)
        h = h if i == 2 else F.relu(h)
    torch.testing.assert_close(model.decode(z, requests), h.flatten(1))


def test_the_default_vae_is_the_conditional_one_of_chapter_3_3_with_float_label_maps():
    model = ConvVAE()
    assert (model.latent, model.conditional) == (16, True)
    assert [conv.kernel.shape[0] for conv in model.down] == [16, 32, 32]
    assert slot_maps(torch.tensor([[1, 2]]), 4).dtype == torch.float32


def test_a_diverged_encoder_gives_a_nan_objective_not_an_error():
    """The objective does not read its values back to check them (a host sync every step): a NaN code
    shows as a NaN loss, as chapter 2.2's diverging run shows it."""
    torch.manual_seed(7)
    model = ConvVAE(latent=2, channels=(2, 2, 2))
    with torch.no_grad():
        model.to_code.b.fill_(float("nan"))
    assert canvas_negative_elbo(model, torch.rand(2, 48, 48), torch.tensor([[1, 2], [3, 4]])).isnan()
