"""thesis_lib.monte_carlo against NumPy's mean and standard error, Python's normal quantiles
(statistics.NormalDist), torch.distributions' closed forms and exact values of degenerate distributions."""

import math
import statistics

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Normal, kl_divergence

from thesis_lib.monte_carlo import MonteCarloEstimate, mc_cross_entropy, mc_entropy, mc_kl, monte_carlo

ALPHA = 1e-6  # two-sided false-alarm probability of each Monte Carlo check (z = 4.89)


def test_monte_carlo_estimate_and_its_tolerance():
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    est = monte_carlo(values)
    assert est.mean == 2.5 and est.n == 4
    assert est.standard_error == pytest.approx(values.std().item() / 2)
    z = MonteCarloEstimate(0.0, 1.0, 100).tolerance(0.05)
    assert z == pytest.approx(1.959964, abs=1e-6)


def test_mean_and_standard_error_are_numpys_in_float64():
    """float32 values: the estimate is computed in float64 (NumPy's mean and ddof=1 std over sqrt(n) to 1e-12)."""
    values = (1000 + torch.randn(5000, generator=torch.Generator().manual_seed(0))).float()
    reference = values.numpy().astype(np.float64)
    est = monte_carlo(values)
    assert est.n == 5000
    assert est.mean == pytest.approx(reference.mean(), rel=1e-12)
    assert est.standard_error == pytest.approx(reference.std(ddof=1) / math.sqrt(5000), rel=1e-12)


@pytest.mark.parametrize("alpha", [1e-6, 0.05, 0.5])
def test_tolerance_is_the_normal_quantile_times_the_standard_error(alpha):
    z = statistics.NormalDist().inv_cdf(1 - alpha / 2)
    assert MonteCarloEstimate(3.0, 0.25, 50).tolerance(alpha) == pytest.approx(0.25 * z, rel=1e-9)
    if alpha == 1e-6:
        assert MonteCarloEstimate(3.0, 0.25, 50).tolerance() == pytest.approx(0.25 * z, rel=1e-9)  # the default


def test_agrees_with_includes_the_edge_of_the_tolerance():
    est = MonteCarloEstimate(1.0, 0.5, 10)
    edge = est.tolerance(0.05)
    assert est.agrees_with(1.0 + edge, 0.05) and est.agrees_with(1.0 - edge, 0.05)
    assert not est.agrees_with(1.0 + edge * (1 + 1e-9), 0.05) and not est.agrees_with(1.0 - edge * (1 + 1e-9), 0.05)
    assert est.agrees_with(torch.tensor(1.2), 0.05)  # a 0-dim tensor is taken as its value


def test_check_reports_a_closed_form_inside_the_tolerance_and_fails_outside():
    est = MonteCarloEstimate(1.0, 0.01, 1000)  # tolerance at alpha = 0.05: 0.0196
    line = est.check("H(p)", 1.015, alpha=0.05)
    assert line.startswith("H(p)") and "closed   1.0150" in line and "MC   1.0000 +- 0.0196" in line
    with pytest.raises(AssertionError, match=r"H\(p\).*closed   1.0250.*outside the Monte Carlo tolerance"):
        est.check("H(p)", 1.025, alpha=0.05)


def test_check_line_in_full():
    assert MonteCarloEstimate(1.0, 0.01, 1000).check("KL", 1.015, alpha=0.05) == (
        "KL                       closed   1.0150   MC   1.0000 +- 0.0196")
    with pytest.raises(AssertionError, match=r"^KL                       closed   1\.0250   MC   1\.0000 \+- 0\.0196: "
                                             r"the closed form is outside the Monte Carlo tolerance \(alpha=0\.05\)$"):
        MonteCarloEstimate(1.0, 0.01, 1000).check("KL", 1.025, alpha=0.05)


# --- exact values: distributions whose log-density is the same at every sample ------------------

def test_a_uniform_categorical_gives_its_entropy_and_cross_entropy_exactly():
    """-log(1/4) = log 4 at every sample: the mean is log 4, the standard error 0."""
    uniform, other = Categorical(probs=torch.full((4,), 0.25)), Categorical(probs=torch.tensor([0.7, 0.1, 0.1, 0.1]))
    for est in (mc_entropy(uniform, 100), mc_cross_entropy(other, uniform, 100)):
        assert (est.mean, est.standard_error, est.n) == (pytest.approx(math.log(4), rel=1e-7), 0.0, 100)
    assert mc_kl(uniform, uniform, 50) == MonteCarloEstimate(0.0, 0.0, 50)


def test_samples_come_from_p_and_the_kl_is_log_p_minus_log_q():
    """p a point mass on 0: every sample is 0, so H(p) = 0, H_q(p) = -log q_0 and KL(p||q) = -log q_0 > 0;
    sampling q instead, or the opposite sign, would give other values (and a standard error above 0)."""
    p, q = Categorical(probs=torch.tensor([1.0, 0.0, 0.0])), Categorical(probs=torch.tensor([0.5, 0.25, 0.25]))
    for est, expected in [(mc_entropy(p, 20), 0.0), (mc_cross_entropy(p, q, 20), math.log(2)),
                          (mc_kl(p, q, 20), math.log(2))]:
        assert est.n == 20 and est.standard_error == 0.0
        assert est.mean == pytest.approx(expected, abs=1e-6)  # torch's log 1 is -1.2e-7 in float32


# --- against torch.distributions' closed forms -----------------------------------------------

def test_gaussian_estimates_agree_with_torch_closed_forms_and_not_with_a_mistakes_value():
    """Each estimate against torch's closed form, and against what a swapped argument or sign would give:
    H(p) vs -H(p), KL(p||q) vs KL(q||p), H_q(p) vs H_p(q)."""
    torch.manual_seed(0)
    p, q = Normal(torch.tensor(0.5), torch.tensor(0.8)), Normal(torch.tensor(-0.3), torch.tensor(1.5))
    entropy_p, entropy_q = p.entropy().item(), q.entropy().item()
    kl_pq, kl_qp = kl_divergence(p, q).item(), kl_divergence(q, p).item()
    n = 50_000
    for estimate, closed, mistaken in [(mc_entropy(p, n), entropy_p, -entropy_p), (mc_kl(p, q, n), kl_pq, kl_qp),
                                       (mc_cross_entropy(p, q, n), entropy_p + kl_pq, entropy_q + kl_qp),
                                       (mc_cross_entropy(q, p, n), entropy_q + kl_qp, entropy_p + kl_pq)]:
        assert estimate.n == n and estimate.agrees_with(closed, ALPHA), (estimate, closed)
        assert not estimate.agrees_with(mistaken, ALPHA), (estimate, mistaken)


def test_the_same_seed_draws_the_same_estimate():
    p = Normal(torch.tensor(0.0), torch.tensor(1.0))
    torch.manual_seed(3)
    first = mc_entropy(p, 1000)
    torch.manual_seed(3)
    assert mc_entropy(p, 1000) == first
    assert mc_entropy(p, 1000) != first


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: monte_carlo([1.0, 2.0]), r"^values is \[1\.0, 2\.0\]; it must be a floating-point torch\.Tensor$"),
    (lambda: monte_carlo(torch.tensor([1, 2])), r"^values is a torch\.int64 tensor of shape \(2,\)"),
    (lambda: monte_carlo(torch.zeros(2, 3)),
     r"^values has shape \(2, 3\); it must be 1-D with at least 2 samples$"),
    (lambda: monte_carlo(torch.zeros(1)), r"^values has shape \(1,\); it must be 1-D with at least 2 samples$"),
    (lambda: mc_kl(Normal(torch.zeros(2), 1.0), Normal(torch.zeros(2), 1.0), 10),
     r"^p has batch shape \(2,\); pass one distribution \(batch shape \(\)\), e\.g\. wrap a diagonal Normal in "
     r"torch\.distributions\.Independent\(\.\.\., 1\)$"),
    (lambda: mc_entropy(Normal(0.0, 1.0), 1), r"^n=1 is not allowed; it must be an integer >= 2$"),
    (lambda: mc_entropy(Normal(0.0, 1.0), True), r"^n=True is not allowed; it must be an integer >= 2$"),
    (lambda: mc_cross_entropy(Normal(0.0, 1.0), Normal(0.0, 1.0), 10.0),
     r"^n=10\.0 is not allowed; it must be an integer >= 2$"),
    (lambda: MonteCarloEstimate(0.0, 1.0, 3).tolerance(0.0), r"^alpha=0\.0 is not allowed; it must lie in \(0, 1\)$"),
    (lambda: MonteCarloEstimate(0.0, 1.0, 3).tolerance(1), r"^alpha=1 is not allowed; it must lie in \(0, 1\)$"),
])
def test_bad_input_is_refused_with_a_clear_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_by_default_agreement_is_within_the_two_sided_one_in_a_million_normal_interval():
    """Samples [0, 2]: mean 1, standard error 1, so the default tolerance is SciPy's normal quantile
    z = norm.isf(5e-7) = 4.8916; two samples are enough for an estimate."""
    from scipy.stats import norm

    estimate = monte_carlo(torch.tensor([0.0, 2.0]))
    assert (estimate.mean, estimate.standard_error) == (1.0, 1.0)
    z = norm.isf(5e-7)
    assert estimate.agrees_with(1 + z - 1e-6) and not estimate.agrees_with(1 + z + 1e-6)
    assert estimate.check("two samples", 1.0).startswith("two samples")
    with pytest.raises(AssertionError, match=r"outside the Monte Carlo tolerance \(alpha=1e-06\)"):
        estimate.check("two samples", 6.0)
    assert mc_entropy(Normal(0.0, 1.0), 2).n == 2
