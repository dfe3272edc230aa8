"""Ex 2.2.2's losses and the training objectives against torch.nn.functional."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from thesis_lib.divergences import bernoulli_entropy
from thesis_lib.losses import (bce_mean, bce_sum, mse_mean, mse_sum, reconstruction_bce,
                               reconstruction_mse, reconstruction_mse_sum)

shapes = st.tuples(st.integers(1, 5), st.integers(1, 7), st.integers(1, 7)).map(
    lambda s: s if s[2] % 2 else (s[0], s[1] * s[2]))  # [B, M, N] or the flattened [B, MN]
seeds = st.integers(0, 2**31 - 1)


def batch_pair(shape, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=dtype), torch.rand(shape, generator=g, dtype=dtype)


@settings(max_examples=25, deadline=None)
@given(shapes, seeds)
def test_mse_sum_and_mean_against_torch(shape, seed):
    image, recon = batch_pair(shape, seed)
    pixels = image[0].numel()
    torch.testing.assert_close(mse_sum(image, recon, batch="sum"), F.mse_loss(recon, image, reduction="sum"))
    torch.testing.assert_close(mse_sum(image, recon), F.mse_loss(recon, image, reduction="sum") / shape[0])
    torch.testing.assert_close(mse_mean(image, recon), F.mse_loss(recon, image))
    torch.testing.assert_close(mse_sum(image, recon, batch="none"),
                               torch.stack([F.mse_loss(r, i, reduction="sum") for i, r in zip(image, recon)]))
    torch.testing.assert_close(mse_sum(image, recon), pixels * mse_mean(image, recon))


@settings(max_examples=25, deadline=None)
@given(shapes, seeds, st.booleans())
def test_bce_mean_and_sum_against_torch_including_saturated_outputs(shape, seed, saturate):
    image, recon = batch_pair(shape, seed, torch.float32)
    if saturate:  # outputs exactly 0 or 1: PyTorch clamps each log at -100, and so do we
        recon = torch.where(recon < 0.3, torch.zeros_like(recon), torch.where(recon > 0.7, 1.0, recon))
    torch.testing.assert_close(bce_mean(image, recon), F.binary_cross_entropy(recon, image))
    torch.testing.assert_close(bce_sum(image, recon, batch="sum"),
                               F.binary_cross_entropy(recon, image, reduction="sum"), rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(bce_mean(image, recon, batch="none"),
                               F.binary_cross_entropy(recon, image, reduction="none").flatten(1).mean(1))


def test_bce_gradient_matches_torch_inside_the_unit_interval():
    image, recon = batch_pair((4, 28, 28), 1)
    recon = (0.01 + 0.98 * recon).requires_grad_()
    ours, = torch.autograd.grad(bce_mean(image, recon), recon)
    ref, = torch.autograd.grad(F.binary_cross_entropy(recon, image), recon)
    torch.testing.assert_close(ours, ref)


@settings(max_examples=25, deadline=None)
@given(shapes, seeds)
def test_bce_of_the_perfect_reconstruction_is_the_mean_binary_entropy(shape, seed):
    image, _ = batch_pair(shape, seed)
    image[0].flatten()[0] = 0.0  # black and white pixels contribute 0 (0 log 0 = 0)
    image[-1].flatten()[-1] = 1.0
    entropy = bernoulli_entropy(image).flatten(1).mean(1)
    torch.testing.assert_close(bce_mean(image, image, batch="none"), entropy)
    ref = torch.distributions.Bernoulli(probs=image).entropy().flatten(1).mean(1)
    torch.testing.assert_close(entropy, ref, atol=1e-6, rtol=1e-6)
    grey = ((image > 0) & (image < 1)).flatten(1).any(1)
    assert (bce_mean(image, image, batch="none")[grey] > 0).all()  # grey pixels: the minimum is not 0
    binary = (image > 0.5).to(image.dtype)
    assert (bce_mean(binary, binary, batch="none") == 0).all()  # black and white: it is 0


def test_bce_is_minimal_at_the_target_with_value_the_entropy():
    psi = torch.tensor([[0.3]], dtype=torch.float64)
    q = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
    values = torch.stack([bce_mean(psi, qi.reshape(1, 1)) for qi in q])
    assert q[values.argmin()].item() == pytest.approx(0.3, abs=1e-9)
    assert values.min().item() == pytest.approx(bernoulli_entropy(psi).item(), rel=1e-12)


def test_literal_bce_is_infinite_at_a_saturated_output_where_torch_clamps():
    image, recon = torch.tensor([[0.5, 0.2]]), torch.tensor([[1.0, 0.2]])
    assert bce_mean(image, recon, log_floor=None).item() == float("inf")
    assert bce_mean(image, recon).item() == pytest.approx(F.binary_cross_entropy(recon, image).item())


class Recorder(nn.Module):
    """Remembers its input and returns half of it."""

    def forward(self, z):
        self.seen = z
        return z * 0.5


def test_objectives_flatten_row_major_and_match_torch():
    x = torch.rand(3, 28, 28, generator=torch.Generator().manual_seed(0))
    model = Recorder()
    flat = x.reshape(3, 784)
    torch.testing.assert_close(reconstruction_mse(model, x, None), F.mse_loss(0.5 * flat, flat))
    assert model.seen.shape == (3, 784)
    assert model.seen[1, 5 * 28 + 7] == x[1, 5, 7]  # pixel (i, j) -> index i*N + j (Lemma 1.3.3)
    torch.testing.assert_close(reconstruction_mse_sum(model, x, None),
                               F.mse_loss(0.5 * flat, flat, reduction="sum") / 3)
    torch.testing.assert_close(reconstruction_bce(model, x, None), F.binary_cross_entropy(0.5 * flat, flat))
    torch.testing.assert_close(reconstruction_mse(model, flat, None), reconstruction_mse(model, x, None))


@pytest.mark.parametrize("call, match", [
    (lambda: mse_sum(torch.zeros(2, 4), torch.zeros(2, 5)), r"image has shape \(2, 4\) but reconstruction has shape"),
    (lambda: mse_mean(torch.zeros(4), torch.zeros(4)), r"image has shape \(4,\)"),
    (lambda: mse_mean(torch.zeros(4), torch.zeros(4)),
     r"one pixel dimension \(use x\[None\] for a single image\)$"),
    (lambda: mse_sum(torch.zeros(2, 4, dtype=torch.uint8), torch.zeros(2, 4)), r"image is a torch.uint8 tensor of shape \(2, 4\); it must be a floating-point"),
    (lambda: mse_sum(torch.zeros(2, 4), torch.zeros(2, 4, dtype=torch.int64)),
     r"^reconstruction is .*\(convert 8-bit images with thesis_lib.infra.device.as_float\)$"),
    (lambda: mse_sum(torch.zeros(2, 4), torch.zeros(2, 4), batch="max"),
     r"^batch='max' is not allowed; choose one of 'mean', 'sum', 'none'$"),
    (lambda: bce_mean(torch.full((1, 4), 255.0), torch.full((1, 4), 0.5)), r"image has 4 value\(s\) outside \[0, 1\]"),
    (lambda: bce_sum(torch.zeros(1, 4), torch.full((1, 4), 1.5)), r"reconstruction has .* outside \[0, 1\]"),
    (lambda: bce_mean(torch.zeros(1, 2), torch.tensor([[0.5, float("nan")]])), r"reconstruction has 1 value"),
])
def test_bad_input_is_refused_with_a_clear_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("batch", ["mean", "sum", "none"])
def test_each_batch_reduction_reduces_torchs_per_image_losses(batch):
    """Per image: the mean or the sum over its pixels; over the batch: the chosen reduction (and the
    mean when none is chosen). Images of different content, so a mean over the whole batch differs."""
    torch.manual_seed(0)
    image = torch.rand(3, 2, 5)
    image[0] = 0.0
    reconstruction = torch.rand(3, 2, 5).clamp(0.01, 0.99)
    per_image = {
        mse_mean: F.mse_loss(reconstruction, image, reduction="none").flatten(1).mean(1),
        mse_sum: F.mse_loss(reconstruction, image, reduction="none").flatten(1).sum(1),
        bce_mean: F.binary_cross_entropy(reconstruction, image, reduction="none").flatten(1).mean(1),
        bce_sum: F.binary_cross_entropy(reconstruction, image, reduction="none").flatten(1).sum(1),
    }
    reduce = {"mean": torch.mean, "sum": torch.sum, "none": lambda x: x}[batch]
    for loss, expected in per_image.items():
        torch.testing.assert_close(loss(image, reconstruction, batch=batch), reduce(expected))
        torch.testing.assert_close(loss(image, reconstruction), expected.mean())
