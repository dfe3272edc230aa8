"""thesis_lib.convergence (Thm 1.2.4, Cor 1.2.6, Thm 1.2.7) against closed forms (quadratics, the Huber worst
case, Euler's product), autograd, eigvalsh, and SGD's stationary noise floor over independent runs."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from thesis_lib.convergence import (Huber, LeastSquares, Quadratic, contraction_factor, interpolate,
                                    permute_hidden_units, product_limit, rosenbrock, sublinear_bound)
from thesis_lib.optim import gd_path, sgd_path

f64 = torch.float64


def test_quadratic_value_gradient_and_constants():
    q = Quadratic.random([0.5, 2.0, 3.0], seed=3)
    x = torch.randn(3, dtype=f64, requires_grad=True)
    d = x.detach() - q.minimiser
    assert q(x).item() == pytest.approx(0.5 * d @ q.matrix @ d)
    q(x).backward()
    torch.testing.assert_close(x.grad, q.matrix @ d)
    torch.testing.assert_close(torch.linalg.eigvalsh(q.matrix), torch.tensor([0.5, 2.0, 3.0], dtype=f64))
    assert (q.smoothness, q.strong_convexity) == (3.0, 0.5)
    assert q(q.minimiser).item() == 0.0


def test_quadratic_refuses_bad_input():
    with pytest.raises(ValueError, match="all non-negative"):
        Quadratic([1.0, -1.0])
    with pytest.raises(ValueError, match="orthogonal 2×2"):
        Quadratic([1.0, 1.0], rotation=torch.ones(2, 2))


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 8), seed=st.integers(0, 1000), kappa=st.floats(1.0, 1e4))
def test_sublinear_bound_holds_at_every_step(n, seed, kappa):
    """Gradient descent with γ = 1/L on a convex L-smooth f: f(x^(t)) − f* ≤ L‖x^(0) − x*‖²/(2t)."""
    gen = torch.Generator().manual_seed(seed)
    eigenvalues = torch.rand(n, generator=gen, dtype=f64) * (1 - 1 / kappa) + 1 / kappa
    eigenvalues[0] = 1.0
    q = Quadratic.random(eigenvalues, seed=seed)
    x0 = torch.zeros(n, dtype=f64)
    path = gd_path(q, x0, 40, 1 / q.smoothness)
    t = torch.arange(1, 41, dtype=f64)
    assert (q(path[1:]) <= sublinear_bound(q.smoothness, x0, q.minimiser, t) * (1 + 1e-12)).all()


@pytest.mark.parametrize("steps", [1, 4, 30])
def test_huber_reaches_the_drori_teboulle_worst_case(steps):
    """f(x^(N)) = L R²/(4N+2) on the Huber function with δ = R/(2N+1); its value follows
    torch's huber_loss: ½x² inside, δ(|x| − δ/2) outside, times L."""
    smoothness, radius = 2.0, 3.0
    f = Huber(smoothness, radius / (2 * steps + 1))
    path = gd_path(f, [radius], steps, 1 / smoothness)
    assert f(path[-1]).item() == pytest.approx(smoothness * radius**2 / (4 * steps + 2), rel=1e-12)
    inside, outside = torch.tensor([f.delta / 2], dtype=f64), torch.tensor([-4 * f.delta], dtype=f64)
    assert f(inside).item() == pytest.approx(smoothness * 0.5 * (f.delta / 2) ** 2)
    assert f(outside).item() == pytest.approx(smoothness * f.delta * (4 * f.delta - f.delta / 2))


@pytest.mark.parametrize("kappa", [5.0, 20.0, 50.0])
def test_linear_rate_is_one_minus_mu_over_l(kappa):
    """On a μ-strongly convex quadratic, ‖x^(t) − x*‖ contracts by exactly 1 − μ/L per step (γ = 1/L)."""
    q = Quadratic.random(torch.linspace(1 / kappa, 1.0, 6), seed=1)
    steps = int(math.log(1e-5) / math.log(1 - 1 / kappa))
    path = gd_path(q, torch.zeros(6, dtype=f64), steps, 1 / q.smoothness)
    errors = (path - q.minimiser).norm(dim=1)
    assert contraction_factor(errors) == pytest.approx(1 - 1 / kappa, rel=1e-4)
    assert contraction_factor(q(path)) == pytest.approx((1 - 1 / kappa) ** 2, rel=1e-4)


def test_summable_steps_stop_short_at_eulers_product():
    """γ_t = 1/(t+1)² on f(x) = x² gives x^(t) = x^(0) ∏(1 − 2γ_s) → x^(0) sin(π√2)/(π√2) ≠ 0."""
    euler = math.sin(math.pi * math.sqrt(2)) / (math.pi * math.sqrt(2))
    assert product_limit(5.0, 2.0, "inverse_square", 1.0) == pytest.approx(5.0 * euler, rel=1e-5)
    path = gd_path(Quadratic([2.0]), [5.0], 300, 1.0, schedule="inverse_square")
    assert path[-1, 0].item() == pytest.approx(5.0 * euler, rel=1e-2)  # the factors left are > 1 − 2/300²
    assert abs(path[-1, 0].item()) > 1.0
    assert product_limit(5.0, 2.0, "inverse", 0.5) == 0.0  # first factor 1 − 2·0.5 = 0
    assert abs(product_limit(5.0, 2.0, "inverse_sqrt", 0.1)) < 1e-100


def test_contraction_factor_of_a_geometric_sequence():
    assert contraction_factor(0.3 * 0.8 ** torch.arange(50, dtype=f64)) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="tail=0"):
        contraction_factor(torch.ones(5), tail=0)


def test_least_squares_minimiser_solves_the_normal_equations():
    ls = LeastSquares(k=200, d=4, seed=2)
    theta = ls.minimiser.clone().requires_grad_(True)
    ls.risk(theta).backward()
    assert theta.grad.abs().max().item() < 1e-12
    assert ls.smoothness == pytest.approx(torch.linalg.eigvalsh(ls.x.T @ ls.x).max().item() / 200)
    assert (ls.excess(torch.randn(10, 4, dtype=f64)) > 0).all()


def test_sgd_noise_floor_matches_its_stationary_prediction():
    """Constant-step SGD on least squares settles at ½tr(HΣ) (Σ from the stationary moment
    equation), to within 4 standard errors over 64 independent runs, and ≈ proportional to γ."""
    ls = LeastSquares(k=300, d=3, seed=0)
    measured, relative_se = [], []
    for lr in (0.02, 0.08):
        start = ls.minimiser.expand(64, 3)
        path = sgd_path(ls.sample_risk, ls.k, start, 400, lr, generator=torch.Generator().manual_seed(0))
        per_run = ls.excess(path[200:]).mean(0)
        se = per_run.std().item() / 8
        assert abs(per_run.mean().item() - ls.noise_floor(lr)) < 4 * se
        measured.append(per_run.mean().item())
        relative_se.append(se / measured[-1])
    # the measured floors grow with γ as predicted: their ratio within 3 standard errors of the prediction's
    ratio, predicted = measured[1] / measured[0], ls.noise_floor(0.08) / ls.noise_floor(0.02)
    assert abs(ratio - predicted) < 3 * ratio * math.hypot(*relative_se) and 3.5 < ratio < 5.5


def test_rosenbrock():
    assert rosenbrock(torch.tensor([1.0, 1.0])).item() == 0.0
    assert rosenbrock(torch.tensor([0.0, 0.0])).item() == 1.0
    x = torch.tensor([1.0, 1.0], requires_grad=True)
    rosenbrock(x).backward()
    assert x.grad.abs().max().item() == 0.0


def test_permuted_hidden_units_compute_the_same_function():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2))
    perm = torch.tensor([5, 4, 3, 2, 1, 0])
    twin = permute_hidden_units(model, perm)
    x = torch.randn(10, 3)
    torch.testing.assert_close(twin(x), model(x))
    assert not torch.equal(twin[0].weight, model[0].weight)
    torch.testing.assert_close(interpolate(model, twin, 0.0)(x), model(x))
    torch.testing.assert_close(interpolate(model, twin, 1.0)[2].weight, twin[2].weight)
    mid = interpolate(model, twin, 0.5)
    torch.testing.assert_close(mid[0].weight, (model[0].weight + twin[0].weight) / 2)
    with pytest.raises(ValueError, match="not a permutation of the 6 hidden units"):
        permute_hidden_units(model, torch.tensor([0, 0, 1, 2, 3, 4]))
    with pytest.raises(ValueError, match="one hidden layer"):
        permute_hidden_units(nn.Linear(3, 2), perm)
