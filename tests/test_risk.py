import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from thesis_lib.risk import (NoisyLine, cross_entropy, cross_entropy_risk, empirical_risk, linear_error,
                             monte_carlo_risk, squared_error, squared_error_risk, zero_one_risk)


def closed_form_squared_risk(a, b, slope, intercept, sigma):
    """E[(y − a x − b)²] for x ~ U[0, 1], y = slope·x + intercept + σ ε: with u = slope − a,
    v = intercept − b, E[(u x + v)²] + σ² = u²/3 + u v + v² + σ²."""
    u, v = slope - a, intercept - b
    return u * u / 3 + u * v + v * v + sigma**2


def line(a, b):
    def predictor(x):
        return a * x + b
    return predictor


@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 6), n=st.integers(1, 5), seed=st.integers(0, 1000))
def test_losses_match_torch(k, n, seed):
    gen = torch.Generator().manual_seed(seed)
    y, p = torch.randn(k, n, generator=gen), torch.randn(k, n, generator=gen)
    torch.testing.assert_close(squared_error(y, p), F.mse_loss(p, y, reduction="none").sum(1))
    torch.testing.assert_close(linear_error(y, p), F.pairwise_distance(y, p, eps=0.0))


def test_losses_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match=r"y has shape \(3, 2\) and prediction has shape \(3, 1\)"):
        squared_error(torch.zeros(3, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="x has 3 samples and y has 2"):
        empirical_risk(squared_error, line(1.0, 0.0), torch.zeros(3, 1), torch.zeros(2, 1))


def test_empirical_risk_is_the_mean_loss():
    x = torch.tensor([[0.0], [1.0], [2.0]])
    y = torch.tensor([[1.0], [1.0], [1.0]])
    # residuals 1, 0, -1 -> squared 1, 0, 1 and linear 1, 0, 1: both risks 2/3
    assert empirical_risk(squared_error, line(1.0, 0.0), x, y).item() == pytest.approx(2 / 3)
    assert empirical_risk(linear_error, line(1.0, 0.0), x, y).item() == pytest.approx(2 / 3)


@pytest.mark.parametrize("a, b", [(2.0, 0.0), (1.3, 0.2), (-1.0, 1.5)])
def test_quadrature_risk_is_the_closed_form(a, b):
    dist = NoisyLine(slope=2.0, sigma=0.5)
    expected = closed_form_squared_risk(a, b, 2.0, 0.0, 0.5)
    assert dist.risk(squared_error, line(a, b), nodes=8) == pytest.approx(expected, rel=1e-12)


def test_quadrature_of_the_linear_error_approaches_the_folded_normal_mean():
    dist = NoisyLine(slope=0.0, sigma=0.5)
    expected = 0.5 * math.sqrt(2 / math.pi)  # E|σε|
    errors = [abs(dist.risk(linear_error, line(0.0, 0.0), nodes=m) - expected) for m in (16, 64, 256)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 2e-3 * expected


@pytest.mark.parametrize("a, b", [(2.0, 0.0), (1.3, 0.2), (0.0, 1.0)])
def test_empirical_risk_converges_to_the_l_risk(a, b):
    """Def 1.2.1 vs 1.2.3: the empirical risk of n draws is within 4 standard errors of the
    closed-form L-risk, and the standard error falls like 1/√n."""
    dist = NoisyLine(slope=2.0, sigma=0.5)
    expected = closed_form_squared_risk(a, b, 2.0, 0.0, 0.5)
    gen = torch.Generator().manual_seed(1)
    errors = []
    for n in (100, 10_000, 1_000_000):
        estimate, se = monte_carlo_risk(squared_error, line(a, b), dist.sample, n, gen)
        assert abs(estimate - expected) < 4 * se
        errors.append(se)
    assert errors[0] / errors[2] == pytest.approx(100, rel=0.2)


def test_monte_carlo_agrees_with_quadrature_for_the_linear_error():
    dist = NoisyLine(slope=2.0, sigma=0.5)
    estimate, se = monte_carlo_risk(linear_error, line(1.3, 0.2), dist.sample, 200_000,
                                    torch.Generator().manual_seed(2))
    assert abs(estimate - dist.risk(linear_error, line(1.3, 0.2), nodes=256)) < 4 * se


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="n=1 is not allowed"):
        monte_carlo_risk(squared_error, line(1.0, 0.0), NoisyLine().sample, 1, torch.Generator())
    with pytest.raises(ValueError, match="sigma=-1"):
        NoisyLine(sigma=-1)
    with pytest.raises(ValueError, match="nodes=0"):
        NoisyLine().risk(squared_error, line(1.0, 0.0), nodes=0)


def test_classification_risks():
    torch.manual_seed(0)
    model = torch.nn.Linear(12, 4)
    x, y = torch.rand(50, 3, 4), torch.randint(4, (50,))
    logits = model(x.reshape(50, 12))
    expected = (torch.logsumexp(logits, 1) - logits[torch.arange(50), y]).mean()
    torch.testing.assert_close(cross_entropy_risk(model, x, y), expected)
    torch.testing.assert_close(cross_entropy(y, logits), torch.logsumexp(logits, 1) - logits[torch.arange(50), y])
    wrong = sum(int(logits[i].argmax() != y[i]) for i in range(50))
    assert zero_one_risk(model, x, y).item() == pytest.approx(wrong / 50)


def test_squared_error_risk_is_the_summed_mse():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    x, y = torch.randn(20, 3), torch.randn(20, 2)
    torch.testing.assert_close(squared_error_risk(model, x, y), F.mse_loss(model(x), y) * 2)


_LINE = NoisyLine(slope=1.5, intercept=0.7, sigma=0.4, low=1.0, high=3.0)


def test_the_noisy_lines_risk_is_the_closed_form_of_its_uniform_and_gaussian_parts():
    """For x ~ U[a, b] and y = s·x + c + σε: the true line's squared risk is σ², the zero
    predictor's is s²E[x²] + 2scE[x] + c² + σ² with E[x] = (a+b)/2, E[x²] = (a²+ab+b²)/3."""
    s, c, sigma, a, b = 1.5, 0.7, 0.4, 1.0, 3.0
    mean_x, mean_x2 = (a + b) / 2, (a * a + a * b + b * b) / 3
    assert math.isclose(_LINE.risk(squared_error, lambda x: s * x + c), sigma**2, rel_tol=1e-12)
    zero = s**2 * mean_x2 + 2 * s * c * mean_x + c**2 + sigma**2
    assert math.isclose(_LINE.risk(squared_error, torch.zeros_like), zero, rel_tol=1e-12)
    assert math.isclose(_LINE.risk(squared_error, torch.zeros_like, nodes=65), zero, rel_tol=1e-12)


def test_the_noisy_lines_draws_follow_its_distribution():
    x, y = _LINE.sample(200_000, torch.Generator().manual_seed(0))
    assert x.dtype == y.dtype == torch.float64 and x.shape == y.shape == (200_000, 1)
    assert 1.0 <= x.min() and x.max() <= 3.0
    assert abs(x.mean().item() - 2.0) < 0.01 and abs(x.var().item() - 4 / 12) < 0.01  # U[1, 3]
    noise = y - 1.5 * x - 0.7
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 0.4) < 0.01


def test_the_smallest_allowed_inputs_are_accepted_and_the_first_refused_ones_named():
    assert NoisyLine(sigma=0.0).sigma == 0.0
    with pytest.raises(ValueError, match=r"^low=1\.0, high=1\.0 are not allowed; low must be below high$"):
        NoisyLine(low=1.0, high=1.0)
    one = torch.tensor([[2.0]])
    assert empirical_risk(squared_error, lambda x: x + 1, one, one).item() == 1.0  # one sample
    estimate, _ = monte_carlo_risk(squared_error, lambda x: x, _LINE.sample, 2, torch.Generator().manual_seed(0))
    assert math.isfinite(estimate)
    vector = torch.tensor([1.0, 2.0])  # samples along the only dimension
    torch.testing.assert_close(squared_error(vector, torch.zeros(2)), torch.tensor([1.0, 4.0]))
    with pytest.raises(ValueError, match=r"^y has shape \(\) and prediction has shape \(\); they must be equal, "
                                         r"with the samples along the first dimension$"):
        squared_error(torch.tensor(1.0), torch.tensor(1.0))


def test_the_draws_come_from_the_generator_given_in_float64():
    """x from torch.rand, then ε from torch.randn, both float64 and both from ``generator``."""
    reference = torch.Generator().manual_seed(3)
    x_ref = 1.0 + 2.0 * torch.rand(4, 1, generator=reference, dtype=torch.float64)
    eps_ref = torch.randn(4, 1, generator=reference, dtype=torch.float64)
    torch.manual_seed(123)  # the global generator must play no part
    x, y = _LINE.sample(4, torch.Generator().manual_seed(3))
    torch.testing.assert_close(x, x_ref, rtol=0, atol=0)
    torch.testing.assert_close(y, 1.5 * x_ref + 0.7 + 0.4 * eps_ref, rtol=0, atol=1e-15)
    first = monte_carlo_risk(squared_error, torch.zeros_like, _LINE.sample, 50, torch.Generator().manual_seed(5))
    torch.manual_seed(321)
    again = monte_carlo_risk(squared_error, torch.zeros_like, _LINE.sample, 50, torch.Generator().manual_seed(5))
    assert first == again
