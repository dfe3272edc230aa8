"""thesis_lib.gradient_estimators (Prop 3.2.5) against closed forms and quadrature."""

import math

import numpy as np
import pytest
import torch

from latent_helpers import DTYPE
from thesis_lib.gradient_estimators import (
    estimator_variance,
    pathwise_gradients,
    reparameterise,
    score_function_gradients,
    sine_sum,
    sine_sum_gradient,
)
from thesis_lib.monte_carlo import monte_carlo


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


def test_mismatched_mean_and_log_variance_are_refused_by_name():
    message = r"^mu has shape \(3,\) but logvar has shape \(4,\); they must have the same shape$"
    for call in (lambda mu, lv: reparameterise(mu, lv), lambda mu, lv: pathwise_gradients(sine_sum, mu, lv, 2),
                 sine_sum_gradient):
        with pytest.raises(ValueError, match=message):
            call(torch.zeros(3), torch.zeros(4))


def test_the_sine_sum_sums_over_the_last_axis_only():
    z = torch.linspace(-3, 3, 24, dtype=DTYPE).reshape(2, 3, 4)
    np.testing.assert_allclose(sine_sum(z).numpy(), np.sin(z.numpy()).sum(axis=-1), rtol=1e-12)
