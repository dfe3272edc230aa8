"""Neurons, layers, deep networks and composition (Def 1.1.3–1.1.6, 2.1.3) against nn.Linear / nn.Sequential."""

import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from thesis_lib.activations import activation
from thesis_lib.networks import (DeepNetwork, Layer, check_widths, compose, flat_parameters, layer,
                                 layer_by_neurons, neuron, to_sequential)

MODULES = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "identity": nn.Identity, "leaky_relu": nn.LeakyReLU}
names = st.sampled_from(sorted(MODULES))
dims = st.integers(min_value=1, max_value=7)
widths_st = st.lists(dims, min_size=2, max_size=6)
fast = settings(max_examples=40, deadline=None)


@fast
@given(dims, st.integers(1, 5), names)
def test_neuron_is_a_one_output_linear_map_then_phi(k, batch, name):
    lin = nn.Linear(k, 1, dtype=torch.float64)
    x = torch.randn(batch, k, dtype=torch.float64)
    expected = MODULES[name]()(lin(x)).squeeze(-1)
    torch.testing.assert_close(neuron(x, lin.weight[0], lin.bias[0], name), expected)


@fast
@given(dims, dims, st.integers(1, 5), names)
def test_layer_matrix_form_and_neuron_form_match_nn_linear(k, m, batch, name):
    lin = nn.Linear(k, m, dtype=torch.float64)
    x = torch.randn(batch, k, dtype=torch.float64)
    expected = MODULES[name]()(lin(x))
    torch.testing.assert_close(layer(x, lin.weight, lin.bias, name), expected)
    torch.testing.assert_close(layer_by_neurons(x, lin.weight, lin.bias, name), expected)


def test_neuron_i_uses_row_i_of_W():
    W = torch.arange(12.0).reshape(3, 4)
    b = torch.tensor([1.0, -2.0, 3.0])
    x = torch.tensor([1.0, 0.0, -1.0, 2.0])
    out = layer_by_neurons(x, W, b, "identity")
    # exact: integer-valued floats far below 2**24 add without rounding
    assert torch.equal(out, torch.tensor([W[i] @ x + b[i] for i in range(3)]))


@pytest.mark.parametrize("k,m", [(1, 1), (4, 3), (784, 128)])
def test_layer_initialises_like_nn_linear(k, m):
    torch.manual_seed(7)
    lin = nn.Linear(k, m)
    torch.manual_seed(7)
    h = Layer(k, m)
    assert torch.equal(h.W, lin.weight) and torch.equal(h.b, lin.bias)
    assert h.theta == (h.W, h.b) and (h.in_features, h.width) == (k, m)


@fast
@given(widths_st, names, st.one_of(st.none(), names))
def test_network_matches_nn_sequential_values_and_gradients(widths, name, out_name):
    net = DeepNetwork(widths, name, output_activation=out_name).double()
    acts = [name] * (len(widths) - 2) + [out_name or name]
    assert [a.split("(")[0] for a in net.activations] == acts
    ref = to_sequential(net)
    assert [type(m) for m in ref[1::2]] == [MODULES[a] for a in acts]
    x = torch.randn(5, widths[0], dtype=torch.float64)
    y, y_ref = net(x), ref(x)
    torch.testing.assert_close(y, y_ref)
    (y ** 2).sum().backward()
    (y_ref ** 2).sum().backward()
    ref_grads = [p.grad for p in ref.parameters()]
    ours = [p.grad for W, b in net.theta for p in (W, b)]
    for a, b in zip(ours, ref_grads):
        torch.testing.assert_close(a, b)


@fast
@given(widths_st)
def test_theta_is_exactly_the_pairs_W_i_b_i(widths):
    net = DeepNetwork(widths)
    assert net.widths == tuple(widths) and net.depth == len(widths) - 1
    assert len(net.theta) == net.depth
    for i, (W, b) in enumerate(net.theta, start=1):
        assert W.shape == (widths[i], widths[i - 1]) and b.shape == (widths[i],)
    flat = flat_parameters(net.theta)
    assert len(flat) == 2 * net.depth == len(list(net.parameters()))
    assert all(a is b for a, b in zip(flat, net.parameters()))
    assert all(W is pair[0] and b is pair[1] for W, b, pair in zip(flat[::2], flat[1::2], net.theta))
    expected = sum(widths[i] * (widths[i - 1] + 1) for i in range(1, len(widths)))
    assert net.num_parameters == expected == sum(p.numel() for p in to_sequential(net).parameters())


def test_def_1_1_6_applies_phi_on_the_last_layer_too():
    torch.manual_seed(0)
    net = DeepNetwork((3, 4, 2), "relu")
    with torch.no_grad():
        net.theta[-1][1].fill_(-100.0)
    x = torch.randn(50, 3)
    assert torch.equal(net(x), torch.zeros(50, 2))
    linear_out = compose(DeepNetwork((3, 4), "relu"), DeepNetwork((4, 2), "relu", output_activation="identity"))
    assert linear_out.activations == ("relu", "identity")
    with torch.no_grad():
        linear_out.theta[-1][1].fill_(-100.0)
    assert (linear_out(x) < 0).all()


def test_callable_and_leaky_activations():
    net = DeepNetwork((3, 5, 2), torch.tanh).double()
    x = torch.randn(4, 3, dtype=torch.float64)
    (W1, b1), (W2, b2) = net.theta
    torch.testing.assert_close(net(x), torch.tanh(F.linear(torch.tanh(F.linear(x, W1, b1)), W2, b2)))
    assert net.activations == ("tanh", "tanh")
    leaky = DeepNetwork((3, 2), activation("leaky_relu", 0.2)).double()
    (W, b), = leaky.theta
    torch.testing.assert_close(leaky(x), F.leaky_relu(F.linear(x, W, b), 0.2))


@pytest.mark.parametrize("bad", [(), (3,), (3, 0), (3, 2.5), (True, 2), (4, -1, 2), "ab", 5, None])
def test_bad_widths_are_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"widths=.* is not allowed; it must list at least two positive integers"):
        check_widths(bad)
    with pytest.raises(ValueError, match="is not allowed"):
        DeepNetwork(bad)


@st.composite
def chains(draw):
    """N networks whose dimensions chain: the widths of the composite split into N parts."""
    n = draw(st.integers(1, 4))
    depths = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    widths = draw(st.lists(dims, min_size=sum(depths) + 1, max_size=sum(depths) + 1))
    acts = draw(st.lists(names, min_size=n, max_size=n))
    parts, start = [], 0
    for depth, act in zip(depths, acts):
        parts.append(DeepNetwork(widths[start:start + depth + 1], act).double())
        start += depth
    return parts, tuple(widths)


@fast
@given(chains())
def test_composition_depth_parameters_and_output(chain):
    parts, widths = chain
    f = compose(*parts)
    assert f.depth == sum(p.depth for p in parts)
    assert f.widths == widths
    concatenated = tuple(pair for p in parts for pair in p.theta)
    assert len(f.theta) == len(concatenated)
    assert all(a is c and b is d for (a, b), (c, d) in zip(f.theta, concatenated))
    x = torch.randn(3, widths[0], dtype=torch.float64)
    y = x
    for p in parts:
        y = p(y)
    torch.testing.assert_close(f(x), y)
    assert f.activations == tuple(a for p in parts for a in p.activations)


def test_composition_mismatch_and_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match=r"network 1 has output dimension 3 but network 2 has input dimension 2"):
        compose(DeepNetwork((5, 4, 3)), DeepNetwork((2, 3, 6)))
    with pytest.raises(ValueError, match="at least one"):
        compose()
    with pytest.raises(ValueError, match="takes DeepNetwork"):
        compose(DeepNetwork((2, 2)), nn.Linear(2, 2))


def test_composition_shares_parameters_so_training_the_whole_trains_the_parts():
    torch.manual_seed(0)
    f1, f2 = DeepNetwork((4, 3), "identity"), DeepNetwork((3, 2), "identity")
    f = compose(f1, f2)
    before = f1.theta[0][0].detach().clone()
    opt = torch.optim.SGD(f.parameters(), lr=0.1)
    f(torch.randn(8, 4)).pow(2).sum().add(1).backward()
    opt.step()
    assert not torch.equal(f1.theta[0][0], before)


def test_neurons_and_layers_apply_relu_unless_told_otherwise():
    """Def 1.1.1 and 1.1.2's φ defaults to ReLU: the affine map through torch.relu."""
    x, W, b = torch.tensor([[1.0, -2.0]]), torch.tensor([[1.0, 1.0], [-1.0, 2.0]]), torch.tensor([0.5, -0.5])
    affine = F.linear(x, W, b)  # [[-0.5, -5.5]]: both negative
    torch.testing.assert_close(layer(x, W, b), torch.relu(affine))
    torch.testing.assert_close(layer_by_neurons(x, W, b), torch.relu(affine))
    torch.testing.assert_close(neuron(x, W[0], b[0]), torch.relu(affine[:, 0]))


def test_refusals_name_the_argument_and_what_is_allowed_in_full():
    tail = ("is not allowed; it must list at least two positive integers (d_0, ..., d_L): the input dimension, "
            "then the width of each of the L layers")
    with pytest.raises(ValueError, match=re.escape(f"widths=None {tail}") + "$"):
        check_widths(5)
    with pytest.raises(ValueError, match="^" + re.escape(f"(in_features, width)=(0, 3) {tail}") + "$"):
        Layer(0, 3)
    with pytest.raises(ValueError, match="^networks=\\(\\) is not allowed; compose needs at least one DeepNetwork$"):
        compose()
    with pytest.raises(ValueError, match=r"^network 2=Linear\(.*\) is not allowed; compose takes DeepNetwork objects$"):
        compose(DeepNetwork((2, 2)), nn.Linear(2, 2))
    with pytest.raises(ValueError, match="^" + re.escape(
            "cannot compose: network 2 has output dimension 2 but network 3 has input dimension 3 (widths (4, 2) "
            "then (3, 2)); they must be equal") + "$"):
        compose(DeepNetwork((3, 4)), DeepNetwork((4, 2)), DeepNetwork((3, 2)))
    with pytest.raises(ValueError, match="^" + re.escape(
            "activation 'tanh' is not allowed in to_sequential; choose one of 'relu', 'sigmoid', 'identity', "
            "'leaky_relu'") + "$"):
        to_sequential(DeepNetwork((3, 4), torch.tanh))
