"""The judge's measurements against closed forms, SciPy's matrix square root and SciPy's entropy."""

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from thesis_lib.conv_layers import DigitClassifier, use_operator
from thesis_lib.generation_metrics import (
    confident_share,
    feature_frechet_distance,
    frechet_distance,
    gaussian_fit,
    label_entropy,
    read,
    score,
)


def spd(dim: int, gen: torch.Generator) -> torch.Tensor:
    a = torch.randn(dim, dim, generator=gen, dtype=torch.float64)
    return a @ a.T + 0.1 * torch.eye(dim, dtype=torch.float64)


@settings(max_examples=30, deadline=None)
@given(dim=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_frechet_distance_matches_scipys_matrix_square_root(dim, seed):
    gen = torch.Generator().manual_seed(seed)
    mean_a, mean_b = torch.randn(dim, generator=gen, dtype=torch.float64), torch.randn(dim, generator=gen,
                                                                                          dtype=torch.float64)
    cov_a, cov_b = spd(dim, gen), spd(dim, gen)
    root = scipy.linalg.sqrtm(cov_a.numpy() @ cov_b.numpy()).real
    expected = ((mean_a - mean_b) ** 2).sum().item() + np.trace(cov_a.numpy() + cov_b.numpy() - 2 * root)
    scale = (cov_a.trace() + cov_b.trace()).item()
    assert frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected, abs=1e-9 * scale * dim)
    assert frechet_distance(mean_a, cov_a, mean_a, cov_a) == pytest.approx(0, abs=1e-9 * scale * dim)
    assert frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(
        frechet_distance(mean_b, cov_b, mean_a, cov_a), abs=1e-9 * scale * dim)


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    """For commuting covariances d² = ‖μ_a − μ_b‖² + Σ_i (σ_a,i − σ_b,i)²."""
    sa, sb = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64), torch.tensor([1.5, 1.0, 3.0], dtype=torch.float64)
    ma, mb = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64), torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)
    expected = ((ma - mb) ** 2).sum() + ((sa - sb) ** 2).sum()
    assert frechet_distance(ma, torch.diag(sa ** 2), mb, torch.diag(sb ** 2)) == pytest.approx(expected.item())


def test_feature_distance_of_samples_sees_a_shift_and_not_resampling():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(20_000, 4, generator=gen), torch.randn(20_000, 4, generator=gen)
    assert feature_frechet_distance(a, b) < 0.01
    assert feature_frechet_distance(a, b + torch.tensor([1.0, 0, 0, 0])) == pytest.approx(1.0, abs=0.03)
    mean, cov = gaussian_fit(a)
    torch.testing.assert_close(cov, torch.from_numpy(np.cov(a.double().numpy().T)))
    with pytest.raises(ValueError, match="features has 1 row"):
        gaussian_fit(a[:1])


def test_confident_share_and_label_entropy():
    probabilities = torch.tensor([[0.95, 0.05], [0.5, 0.5], [0.1, 0.9], [0.2, 0.8]])
    assert confident_share(probabilities) == 0.5
    assert confident_share(probabilities, threshold=0.5) == 1.0
    with pytest.raises(ValueError, match="threshold=0 is not allowed"):
        confident_share(probabilities, threshold=0)
    uniform = torch.eye(10).repeat(7, 1)
    assert label_entropy(uniform) == pytest.approx(math.log(10))
    assert label_entropy(torch.eye(10)[[3] * 20]) == 0
    labels = torch.randint(10, (500,), generator=torch.Generator().manual_seed(1))
    counts = np.bincount(labels.numpy(), minlength=10)
    assert label_entropy(torch.eye(10)[labels]) == pytest.approx(scipy.stats.entropy(counts))
    assert label_entropy(torch.eye(10)[[0, 0, 1]]) == pytest.approx(scipy.stats.entropy([2, 1]))  # a label once
    assert confident_share(probabilities, threshold=1) == 0.0
    with pytest.raises(ValueError, match=r"^threshold=1.5 is not allowed; it must lie in \(0, 1\]$"):
        confident_share(probabilities, threshold=1.5)


def test_two_feature_rows_are_enough_for_a_covariance():
    a = torch.tensor([[0.0, 1.0, 2.0], [2.0, -1.0, 5.0]])
    mean, cov = gaussian_fit(a)
    torch.testing.assert_close(mean, a.double().mean(0))
    torch.testing.assert_close(cov, torch.from_numpy(np.cov(a.double().numpy().T)))


def test_the_judge_reads_probabilities_and_features_and_uses_chapter_1_3s_layers():
    torch.manual_seed(0)
    judge = DigitClassifier((4, 8), 16)
    images = torch.randint(0, 256, (30, 28, 28), dtype=torch.uint8)
    reading = read(judge, images, batch_size=7)
    assert reading.probabilities.shape == (30, 10) and reading.features.shape == (30, 16)
    torch.testing.assert_close(reading.probabilities.sum(-1), torch.ones(30, dtype=torch.float64))
    with torch.no_grad():
        logits = judge(images.float() / 255)
        torch.testing.assert_close(reading.probabilities, logits.softmax(-1).double())
        thesis = use_operator(DigitClassifier((4, 8), 16), "thesis")
        thesis.load_state_dict(judge.state_dict())
        torch.testing.assert_close(thesis(images[:3].float() / 255), logits[:3], rtol=1e-4, atol=1e-5)
    others = torch.rand(25, 784, generator=torch.Generator().manual_seed(2))
    scores = score(judge, others, reading)
    with torch.no_grad():
        a = judge.features(others).double().numpy()
        b = judge.features(images.float() / 255).double().numpy()
        probabilities = judge(others).softmax(-1).double().numpy()
    ca, cb = np.cov(a.T), np.cov(b.T)
    # tr sqrt(ca cb) from the eigenvalues of ca cb (real and >= 0 for two covariances, singular ones too)
    root_trace = np.sqrt(np.clip(np.linalg.eigvals(ca @ cb).real, 0, None)).sum()
    frechet = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * root_trace
    assert scores.n == 25 and scores.frechet_distance == pytest.approx(frechet, rel=1e-4)
    counts = np.bincount(probabilities.argmax(-1), minlength=10)
    assert scores.label_entropy == pytest.approx(scipy.stats.entropy(counts))
    assert scores.label_entropy_share == pytest.approx(scipy.stats.entropy(counts) / math.log(10))
    assert scores.confident_share == pytest.approx((probabilities.max(-1) >= 0.9).mean())
