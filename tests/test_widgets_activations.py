"""thesis_lib.book.widgets.activations: the activation explorer and its static twin (Ex 1.1.2) against
torch.nn.functional's activations, their derivatives in closed form, and the figure's titles and legend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from thesis_lib.activations import ACTIVATION_NAMES
from thesis_lib.book.widgets.activations import activation_explorer, activation_figure, plot_activation


def test_plot_activation_draws_formula_and_derivative():
    fig, axes = plt.subplots(1, 2)
    plot_activation(axes, "leaky_relu", alpha=0.3, points=101)
    t, y = (torch.as_tensor(a) for a in axes[0].lines[0].get_data())
    torch.testing.assert_close(y, F.leaky_relu(t, 0.3))
    t, dy = (torch.as_tensor(a) for a in axes[1].lines[0].get_data())
    torch.testing.assert_close(dy, torch.where(t > 0, 1.0, 0.3).double())
    plt.close(fig)
    fig = activation_figure()
    assert len(fig.axes) == 6
    plt.close(fig)


def test_explorer_enables_the_slope_only_for_leaky_relu_and_plots_the_choice(shown_by):
    import thesis_lib.book.widgets.activations as explorer_module

    shown = shown_by(explorer_module)
    box = activation_explorer()
    choice, slope = box.children[0].children
    assert set(choice.options) == set(ACTIVATION_NAMES) and not slope.disabled
    choice.value = "sigmoid"
    assert slope.disabled
    choice.value = "leaky_relu"
    slope.value = 0.5
    assert not slope.disabled
    curve = shown[-1].axes[0].get_lines()[0]
    t = torch.as_tensor(curve.get_xdata())
    torch.testing.assert_close(torch.as_tensor(curve.get_ydata()), F.leaky_relu(t, 0.5))
    plt.close("all")


def test_the_sigmoids_derivative_line_and_autograd_dots_are_its_closed_form_on_the_asked_range():
    """σ'(t) = σ(t)(1 − σ(t)); the dots are every (points // 25)-th point."""
    fig, axes = plt.subplots(1, 2)
    plot_activation(axes, "sigmoid", low=-2.0, high=3.0, points=251)
    t, y = (torch.as_tensor(a) for a in axes[0].lines[0].get_data())
    torch.testing.assert_close(t, torch.linspace(-2.0, 3.0, 251, dtype=torch.float64))
    torch.testing.assert_close(y, torch.sigmoid(t))
    formula, dots = axes[1].lines
    closed = torch.sigmoid(t) * (1 - torch.sigmoid(t))
    torch.testing.assert_close(torch.as_tensor(formula.get_ydata()), closed)
    torch.testing.assert_close(torch.as_tensor(dots.get_xdata()), t[::10])
    torch.testing.assert_close(torch.as_tensor(dots.get_ydata()), closed[::10])
    assert (formula.get_label(), dots.get_label(), dots.get_marker()) == ("φ' (formula)", "autograd", "o")
    assert [ax.get_title() for ax in axes] == ["sigmoid", "derivative of sigmoid"]
    plt.close(fig)


@pytest.mark.parametrize("name, title", [("relu", "ReLU"), ("leaky_relu", "leaky ReLU, α = 0.25"),
                                         ("sigmoid", "sigmoid"), ("identity", "identity")])
def test_each_activation_is_titled_by_its_name_and_leaky_relu_by_its_slope(name, title):
    fig, axes = plt.subplots(1, 2)
    plot_activation(axes, name, alpha=0.25, points=11)
    assert axes[0].get_title() == title and (axes[0].get_xlabel(), axes[0].get_ylabel()) == ("t", "φ(t)")
    plt.close(fig)


def test_the_static_figure_puts_the_activations_above_their_derivatives_with_one_legend():
    fig = activation_figure(alpha=0.2, names=("identity", "leaky_relu"))
    assert [ax.get_title() for ax in fig.axes] == ["identity", "leaky ReLU, α = 0.2", "derivative of identity",
                                                   "derivative of leaky ReLU"]
    identity_line = fig.axes[0].lines[0]
    torch.testing.assert_close(torch.as_tensor(identity_line.get_ydata()), torch.as_tensor(identity_line.get_xdata()))
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["φ' (formula)", "autograd"]
    plt.close(fig)
    assert len(activation_figure().axes) == 6 and [ax.get_title() for ax in activation_figure().axes[:3]] == [
        "ReLU", "leaky ReLU, α = 0.1", "sigmoid"]  # Ex 1.1.2's three, α = 0.1
    plt.close("all")


def test_the_explorer_starts_at_leaky_relu_and_redraws_relu_with_its_step_derivative(shown_by):
    import thesis_lib.book.widgets.activations as explorer_module

    shown = shown_by(explorer_module)
    choice, slope = activation_explorer(alpha=0.4).children[0].children
    assert (choice.value, slope.value) == ("leaky_relu", 0.4) and list(choice.options) == list(ACTIVATION_NAMES)
    assert shown[-1].axes[0].get_title() == "leaky ReLU, α = 0.4"
    choice.value = "relu"
    derivative = shown[-1].axes[1].lines[0]
    t = torch.as_tensor(derivative.get_xdata())
    torch.testing.assert_close(torch.as_tensor(derivative.get_ydata()), (t > 0).double())
    assert shown[-1].axes[0].get_title() == "ReLU" and len(shown) == 2
    plt.close("all")
