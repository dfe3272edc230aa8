"""thesis_lib.infra.validation: which values each check accepts and refuses (Python's int, bool, float,
inf and nan), and its messages in full: the parameter's name, the value's repr and what is allowed."""

import math
import re

import pytest

from thesis_lib.infra.validation import choice, non_negative_int, positive_int, positive_number


@pytest.mark.parametrize("value", [1, 2, 60_000, 10**30])
def test_positive_int_returns_what_it_accepts(value):
    assert positive_int("n", value) is value


@pytest.mark.parametrize("value", [0, -1, True, False, 1.0, 2.5, "3", None, math.inf, math.nan])
def test_positive_int_refuses_zero_negatives_bools_floats_and_the_rest(value):
    with pytest.raises(ValueError, match=rf"^n={re.escape(repr(value))} is not allowed; it must be a positive "
                                         r"integer$"):
        positive_int("n", value)


@pytest.mark.parametrize("value", [0, 1, 7, 10**30])
def test_non_negative_int_returns_what_it_accepts(value):
    assert non_negative_int("steps", value) is value


@pytest.mark.parametrize("value", [-1, -(10**30), True, False, 0.0, 1.0, "0", None, math.nan])
def test_non_negative_int_refuses_negatives_bools_floats_and_the_rest(value):
    with pytest.raises(ValueError, match=rf"^steps={re.escape(repr(value))} is not allowed; it must be a "
                                         r"non-negative integer$"):
        non_negative_int("steps", value)


@pytest.mark.parametrize("value, expected", [(1, 1.0), (3, 3.0), (0.25, 0.25), (5e-324, 5e-324), (1e308, 1e308),
                                             (math.inf, math.inf)])
def test_positive_number_returns_a_float(value, expected):
    result = positive_number("lr", value)
    assert type(result) is float and result == expected


@pytest.mark.parametrize("value", [0, 0.0, -0.0, -1, -1e-300, -math.inf, math.nan, True, False, "1", None, 1j])
def test_positive_number_refuses_zero_negatives_nan_bools_and_non_numbers(value):
    with pytest.raises(ValueError, match=rf"^lr={re.escape(repr(value))} is not allowed; it must be a positive "
                                         r"number$"):
        positive_number("lr", value)


def test_positive_number_with_finite_accepts_finite_values_and_refuses_inf():
    assert positive_number("sigma", 2, finite=True) == 2.0 and positive_number("sigma", 1e308, finite=True) == 1e308
    with pytest.raises(ValueError, match=r"^sigma=inf is not allowed; it must be a positive finite number$"):
        positive_number("sigma", math.inf, finite=True)
    for value in (0.0, -2.0, math.nan, -math.inf):
        with pytest.raises(ValueError, match=rf"^sigma={re.escape(repr(value))} is not allowed; it must be a "
                                             r"positive finite number$"):
            positive_number("sigma", value, finite=True)


def test_choice_returns_an_allowed_value():
    assert choice("split", "train", ("train", "test")) == "train"
    assert choice("k", 3, (1, 3, 5)) == 3


@pytest.mark.parametrize("name, value, allowed, message", [
    ("split", "validation", ("train", "test"), "split='validation' is not allowed; choose one of 'train', 'test'"),
    ("split", "Train", ("train",), "split='Train' is not allowed; choose one of 'train'"),
    ("k", 2, (1, 3, 5), "k=2 is not allowed; choose one of 1, 3, 5"),
    ("k", "1", (1, 3), "k='1' is not allowed; choose one of 1, 3"),
    ("kind", None, ("dense", "vae"), "kind=None is not allowed; choose one of 'dense', 'vae'"),
])
def test_choice_refuses_the_rest_listing_the_allowed_values_in_order(name, value, allowed, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        choice(name, value, allowed)
