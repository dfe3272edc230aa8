"""The rounding bound of thesis_lib.numerics against sums computed in other orders and in float64."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from thesis_lib.infra.numerics import assert_sums_close, rounding_tolerance


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 2**31 - 1), st.sampled_from([torch.float32, torch.float64]))
def test_two_summation_orders_differ_by_less_than_the_bound(n, seed, dtype):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(n, generator=gen, dtype=torch.float64) * 10 ** torch.randint(-3, 4, (n,), generator=gen))
    x = x.to(dtype)
    forward = torch.zeros((), dtype=dtype)
    for value in x:  # strictly left to right: the order of a neuron-by-neuron loop
        forward = forward + value
    exact = math.fsum(x.tolist())  # correctly rounded
    bound = rounding_tolerance(dtype, n, x.abs().sum().item())
    assert abs(forward.item() - exact) <= bound / 2
    assert_sums_close(forward, x.flip(0).sum(), terms=n, scale=x.abs().sum().item())


def test_float32_matrix_product_against_a_loop_of_dot_products():
    torch.manual_seed(0)
    W, x = torch.randn(64, 784), torch.rand(784, 100)
    by_rows = torch.stack([(W[i][:, None] * x).sum(0) for i in range(64)])
    assert_sums_close(by_rows, W @ x, terms=784, scale=(W.abs() @ x.abs()).max().item())


def test_a_dropped_term_is_caught():
    torch.manual_seed(0)
    x = torch.rand(1000)
    with pytest.raises(AssertionError):
        assert_sums_close(x[1:].sum(), x.sum(), terms=1000, scale=x.abs().sum().item())


def test_the_bound_is_gamma_n_in_units_of_the_dtype():
    u = 2.0 ** -24
    assert rounding_tolerance(torch.float32, 10, 3.0) == pytest.approx(2 * 10 * u / (1 - 10 * u) * 3.0, rel=1e-12)
    assert rounding_tolerance(torch.float64, 10, 3.0) < rounding_tolerance(torch.float32, 10, 3.0) / 1e8


@pytest.mark.parametrize("kwargs,message", [
    ({"dtype": torch.int64, "terms": 3, "scale": 1.0}, "dtype=torch.int64"),
    ({"dtype": torch.float32, "terms": 0, "scale": 1.0}, "terms=0"),
    ({"dtype": torch.float32, "terms": True, "scale": 1.0}, "terms=True"),
    ({"dtype": torch.float32, "terms": 3, "scale": -1.0}, "scale=-1.0"),
    ({"dtype": torch.float16, "terms": 5000, "scale": 1.0}, "terms=5000"),
])
def test_bad_arguments_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rounding_tolerance(**kwargs)
