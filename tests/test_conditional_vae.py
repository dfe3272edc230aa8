"""The conditional VAE against torch.distributions and one-hot counts."""

import pytest
import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal, kl_divergence

from thesis_lib.conditional_vae import ConditionalVAE, conditional_negative_elbo, digit_counts, generate


def small_cvae():
    torch.manual_seed(0)
    return ConditionalVAE((16, 16), latent=3).double()


def test_digit_counts_are_summed_one_hot_labels():
    labels = torch.randint(10, (50, 3), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(digit_counts(labels), F.one_hot(labels, 10).sum(1).float())
    assert digit_counts(torch.tensor([[7, 7]])).tolist() == [[0, 0, 0, 0, 0, 0, 0, 2, 0, 0]]
    with pytest.raises(ValueError, match="digits 0..9"):
        digit_counts(torch.tensor([[3, 10]]))
    with pytest.raises(ValueError, match=r"give integer digit labels \[B, k\]"):
        digit_counts(torch.tensor([3, 4]))


def test_conditional_elbo_matches_torch_distributions_and_uses_the_condition():
    model = small_cvae()
    gen = torch.Generator().manual_seed(1)
    x = torch.bernoulli(torch.rand(6, 16, dtype=torch.float64, generator=gen), generator=gen)
    y = torch.randint(10, (6, 2), generator=gen)
    torch.manual_seed(5)
    value = conditional_negative_elbo(model, x, y)
    torch.manual_seed(5)
    xb = torch.bernoulli(x)
    c = F.one_hot(y, 10).sum(1).double()
    mu, logvar = model.encoder(torch.cat([xb, c], -1)).chunk(2, -1)
    q = Normal(mu, (0.5 * logvar).exp())
    z = mu + q.scale * torch.randn_like(mu)
    rec = -Bernoulli(logits=model.decoder(torch.cat([z, c], -1))).log_prob(xb).sum(-1)
    kl = kl_divergence(q, Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(value, (rec + kl).mean())
    z0 = torch.zeros(1, 3, dtype=torch.float64)
    a = model.decode_mean(z0, digit_counts(torch.tensor([[1, 2]])).double())
    b = model.decode_mean(z0, digit_counts(torch.tensor([[3, 4]])).double())
    assert (a - b).abs().max() > 1e-4


def test_generate_decodes_one_canvas_per_request_seeded():
    model = small_cvae().float()
    labels = torch.tensor([[1, 7], [0, 0], [3, 9]])
    a = generate(model, labels, torch.Generator().manual_seed(2))
    z = torch.randn(3, 3, generator=torch.Generator().manual_seed(2))
    counts = torch.from_numpy(np.eye(10, dtype=np.float32)[labels.numpy()].sum(1))  # one-hot rows summed
    with torch.no_grad():
        expected = torch.sigmoid(model.decoder(torch.cat([z, counts], -1)))
    torch.testing.assert_close(a, expected)
    assert torch.equal(a, generate(model, labels, torch.Generator().manual_seed(2)))


def test_encoder_and_decoder_are_linear_layers_written_out():
    """F.linear with the model's weights: encoder (d_0 + 10, d_1, d_2, 2·latent) on [x, c], decoder
    (latent + 10, d_2, d_1, d_0) on [z, c], the activation (tanh) between layers, none on either's output."""
    torch.manual_seed(2)
    model = ConditionalVAE((30, 20, 15), latent=3, activation=torch.tanh)
    x, c, z = torch.rand(2, 30), digit_counts(torch.tensor([[1], [8]])), torch.randn(2, 3)

    def through(layers, h):
        for i, layer in enumerate(layers):
            h = F.linear(h, layer.W, layer.b)
            h = h if i == len(layers) - 1 else torch.tanh(h)
        return h

    code = through(model.encoder.layers, torch.cat([x, c], 1))
    assert [layer.W.shape[1] for layer in model.encoder.layers] == [40, 20, 15]
    torch.testing.assert_close(torch.cat(model.encode(x, c), 1), code)
    assert [layer.W.shape[0] for layer in model.decoder.layers] == [15, 20, 30]
    torch.testing.assert_close(model.decode_mean(z, c), torch.sigmoid(through(model.decoder.layers,
                                                                               torch.cat([z, c], 1))))
    with pytest.raises(ValueError, match="^latent=0 is not allowed"):
        ConditionalVAE((30, 20), latent=0)


def test_a_diverged_encoder_gives_a_nan_objective_not_an_error():
    """The objective does not read values back to check them: a NaN code shows as a NaN loss."""
    model = small_cvae()
    with torch.no_grad():
        model.encoder.layers[-1].b.fill_(float("nan"))
    x = torch.rand(3, 16, dtype=torch.float64)
    assert conditional_negative_elbo(model, x, torch.tensor([[1], [2], [3]])).isnan()
