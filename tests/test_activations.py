"""Activations (Def 1.1.1, Ex 1.1.2) against torch.nn.functional and autograd."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from thesis_lib.activations import (ACTIVATION_NAMES, Activation, activation, check_activation, identity,
                                    identity_derivative, leaky_relu, leaky_relu_derivative, relu,
                                    relu_derivative, resolve, sigmoid, sigmoid_derivative)

SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 89.0, -89.0, 100.0, -100.0, 745.0, -745.0, 1e4, -1e4]
reals = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
inputs = st.lists(reals, min_size=1, max_size=40).map(lambda v: v + SPECIAL)
alphas = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)
dtypes = st.sampled_from([torch.float32, torch.float64])
fast = settings(max_examples=60, deadline=None)


def autograd_slope(f, t):
    t = t.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(t).sum(), t)
    return g


def close(a, b, dtype):
    """One formula against another: float32 to 1e-6 relative, float64 to 1e-12 relative."""
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-300)
    torch.testing.assert_close(a, b, **tol)
    return True


@fast
@given(inputs, dtypes)
def test_relu_matches_torch_value_and_slope(values, dtype):
    t = torch.tensor(values, dtype=dtype)
    assert torch.equal(relu(t), F.relu(t))
    assert torch.equal(relu_derivative(t), autograd_slope(F.relu, t))
    assert torch.equal(autograd_slope(relu, t), autograd_slope(F.relu, t))


@fast
@given(inputs, alphas, dtypes)
def test_leaky_relu_matches_torch_value_and_slope(values, alpha, dtype):
    t = torch.tensor(values, dtype=dtype)
    reference = lambda s: F.leaky_relu(s, negative_slope=alpha)  # noqa: E731
    assert close(leaky_relu(t, alpha), reference(t), dtype)
    assert close(leaky_relu_derivative(t, alpha), autograd_slope(reference, t), dtype)
    assert close(autograd_slope(lambda s: leaky_relu(s, alpha), t), autograd_slope(reference, t), dtype)


@fast
@given(inputs, dtypes)
def test_sigmoid_matches_torch_and_is_stable_for_large_t(values, dtype):
    t = torch.tensor(values, dtype=dtype)
    value, slope = sigmoid(t), autograd_slope(sigmoid, t)
    assert torch.isfinite(value).all() and torch.isfinite(slope).all()
    assert close(value, torch.sigmoid(t), dtype)
    # the closed form σ'(t) = e^{-|t|} / (1 + e^{-|t|})² (σ' is even), in float64: not the code's σ(t)σ(-t)
    r = torch.exp(-t.double().abs())
    exact_slope = (r / (1 + r) ** 2).to(dtype)
    assert close(sigmoid_derivative(t), exact_slope, dtype)
    assert close(slope, exact_slope, dtype)
    # torch's own autograd uses σ(1 - σ), which rounds to 0 for large t: compare absolutely
    torch.testing.assert_close(slope, autograd_slope(torch.sigmoid, t), rtol=0, atol=torch.finfo(dtype).eps)


def test_sigmoid_closed_form_values():
    t = torch.tensor([0.0, math.log(3.0), -math.log(3.0)], dtype=torch.float64)
    torch.testing.assert_close(sigmoid(t), torch.tensor([0.5, 0.75, 0.25], dtype=torch.float64))
    torch.testing.assert_close(sigmoid_derivative(t), torch.tensor([0.25, 0.1875, 0.1875], dtype=torch.float64))


@fast
@given(inputs)
def test_identity_and_its_derivative(values):
    t = torch.tensor(values, dtype=torch.float64)
    assert torch.equal(identity(t), t)
    assert torch.equal(identity_derivative(t), autograd_slope(identity, t))


@fast
@given(inputs, st.sampled_from(ACTIVATION_NAMES), st.floats(min_value=0.0, max_value=1.0))
def test_kernel_the_networks_run_equals_the_formula(values, name, alpha):
    t = torch.tensor(values, dtype=torch.float64)
    act = activation(name, alpha)
    torch.testing.assert_close(act(t), act.formula(t), rtol=1e-12, atol=1e-300)
    # sigmoid's slope s(1 - s) far out: 1 - s has lost all but a few bits (s is within an ulp of 1), so
    # two orders of computation agree to a few float64 epsilons absolutely, not relatively (x = 11 differs
    # by 1.4e-16 on a slope of 1.7e-5)
    torch.testing.assert_close(autograd_slope(act, t), act.derivative(t), rtol=1e-12,
                               atol=4 * torch.finfo(torch.float64).eps)


def test_leaky_relu_alpha_zero_is_relu_and_alpha_one_is_identity():
    t = torch.linspace(-3, 3, 61)
    assert torch.equal(activation("leaky_relu", 0.0)(t), F.relu(t))
    assert torch.equal(activation("leaky_relu", 1.0)(t), t)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.1", True, None])
def test_bad_alpha_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="alpha="):
        activation("leaky_relu", bad)


def test_unknown_name_is_a_clear_error_listing_the_choices():
    with pytest.raises(ValueError, match=r"activation='tanhh' is not allowed; choose one of 'relu', 'leaky_relu'"):
        resolve("tanhh")
    with pytest.raises(ValueError, match="activation=3"):
        resolve(3)


def test_resolve_accepts_names_activations_and_callables():
    name, phi = resolve("sigmoid")
    assert name == "sigmoid" and isinstance(phi, Activation)
    assert resolve(torch.tanh) == ("tanh", torch.tanh)
    act = activation("leaky_relu", 0.2)
    assert resolve(act) == ("leaky_relu(alpha=0.2)", act)
    module = torch.nn.Softplus()  # a callable without __name__ is named by its class
    assert resolve(module) == ("Softplus", module)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_named_activations_pass_the_def_1_1_1_check(name):
    assert check_activation(activation(name, 0.1).formula).is_activation


def test_check_rejects_constants_and_jumps_and_accepts_non_lipschitz():
    constant = check_activation(lambda t: torch.full_like(t, 0.7))
    assert not constant.non_constant and constant.continuous and not constant.is_activation
    heaviside = check_activation(lambda t: (t > 0.123).to(t.dtype))
    assert heaviside.non_constant and not heaviside.continuous
    assert heaviside.max_step_fine == pytest.approx(1.0)
    assert check_activation(lambda t: t.abs().sqrt()).is_activation


@pytest.mark.parametrize("kwargs", [dict(low=1.0, high=0.0), dict(low=float("nan")), dict(points=2)])
def test_check_bad_grid_is_a_clear_error(kwargs):
    with pytest.raises(ValueError, match="is not allowed"):
        check_activation(relu, **kwargs)


def test_each_activation_is_named_as_asked_and_an_unknown_name_lists_the_choices():
    for name in ("relu", "sigmoid", "identity"):
        assert activation(name).name == name
    assert activation("leaky_relu", 0.25).name == "leaky_relu(alpha=0.25)"
    with pytest.raises(ValueError, match=r"^activation='tanh' is not allowed; choose one of 'relu', 'leaky_relu', "
                                         r"'sigmoid', 'identity' or pass a callable$"):
        activation("tanh")


def test_relu_keeps_an_integer_tensor_integer():
    """torch.where with a zero of the input's own dtype: an int64 input gives int64, as F.relu does."""
    t = torch.tensor([-3, 0, 2])
    out = relu(t)
    assert out.dtype == F.relu(t).dtype == torch.int64 and out.tolist() == [0, 0, 2]


def test_check_activation_samples_its_default_range_in_float64_on_a_grid_ten_times_finer():
    seen = []
    check_activation(lambda t: seen.append((t.dtype, len(t), t[0].item(), t[-1].item())) or t, points=5)
    assert seen == [(torch.float64, 5, -10.0, 10.0), (torch.float64, 41, -10.0, 10.0)]
    ramp = check_activation(lambda t: torch.relu(-9.0 - t))  # varies only on [-10, -9]
    assert ramp.spread == 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(low=1.0, high=1.0), r"^low=1\.0, high=1\.0 is not allowed; need finite numbers with low < high$"),
    (dict(points=True), r"^points=True is not allowed; it must be an integer >= 3$"),
    (dict(points=5.0), r"^points=5\.0 is not allowed; it must be an integer >= 3$"),
    (dict(points=2), r"^points=2 is not allowed"),
])
def test_check_activation_refuses_an_empty_range_and_too_few_points(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_activation(torch.sin, **kwargs)
    assert check_activation(torch.sin, points=3).spread > 0  # three points are enough


def test_resolve_refuses_what_is_neither_a_name_nor_a_callable_listing_the_names():
    with pytest.raises(ValueError, match=r"^activation=3 is not allowed; choose one of 'relu', 'leaky_relu', "
                                         r"'sigmoid', 'identity' or pass a callable$"):
        resolve(3)
