"""thesis_lib.book.widgets.gradient_descent: the explorer and its static twin against gradient descent in closed
form on the quadratic, optim.gd_path for the other paths and schedules, and the landscapes' formulas."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

import thesis_lib.book.widgets.gradient_descent as gd_widget
from thesis_lib.book.widgets.gradient_descent import LANDSCAPES, draw_contours, draw_path, gd_explorer, gd_figure
from thesis_lib.convergence import rosenbrock
from thesis_lib.optim import gd_path


def test_gradient_descent_widget_and_its_static_twin(shown_by):
    fig = gd_figure(steps=5)
    assert [line.get_label() for line in fig.axes[1].get_lines()] == [
        "γ = 0.02 < 1/L", "γ = 0.1 = 1/L", "γ = 0.19 in (1/L, 2/L)", "γ = 0.21 > 2/L"]
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    path = draw_path(axes, "quadratic", 0.1, 3)
    # gradient descent on ½(x₁² + 10 x₂²) in closed form: x^(t) = (I − γ diag(1, 10))^t x^(0)
    closed_form = torch.tensor([[-1.8 * 0.9 ** t, 0.6 * 0.0 ** t] for t in range(4)], dtype=path.dtype)
    torch.testing.assert_close(path, closed_form)
    assert [line.get_xdata().tolist() for line in axes[0].get_lines()][-1] == closed_form[:, 0].tolist()
    plt.close(fig)

    shown = shown_by(gd_widget)
    explorer = gd_explorer()
    lr_slider, steps_slider = explorer.children[1].children
    steps_slider.value = 7
    lr_slider.value = 0.05
    gap_line = shown[-1].axes[1].get_lines()[0]  # f(x^(t)) - f* of the path drawn after the last move
    expected = gd_path(LANDSCAPES["quadratic"].f, [-1.8, 0.6], 7, 0.05)
    torch.testing.assert_close(torch.as_tensor(gap_line.get_ydata()), LANDSCAPES["quadratic"].f(expected))
    with pytest.raises(ValueError, match="name='himmelblau' is not allowed"):
        gd_explorer("himmelblau")
    plt.close("all")


def test_the_landscapes_are_the_stated_functions_with_their_minima():
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    quadratic, banana = LANDSCAPES["quadratic"], LANDSCAPES["rosenbrock"]
    torch.testing.assert_close(quadratic.f(x), 0.5 * (x[:, 0] ** 2 + 10 * x[:, 1] ** 2))
    assert quadratic.f.smoothness == 10.0 and quadratic.minimum == 0.0
    assert quadratic.f(torch.zeros(1, 2, dtype=torch.float64)).item() == 0.0
    torch.testing.assert_close(banana.f(x), (1 - x[:, 0]) ** 2 + 100 * (x[:, 1] - x[:, 0] ** 2) ** 2)
    assert banana.f is rosenbrock and banana.minimum == 0.0 and banana.start == (-1.2, 1.0)  # Rosenbrock's start


def test_the_legend_places_each_step_size_against_1_over_l_and_2_over_l():
    fig = gd_figure(lrs=(0.05, 0.1, 0.15, 0.2, 0.3), steps=2)
    assert [line.get_label() for line in fig.axes[1].get_lines()] == [
        "γ = 0.05 < 1/L", "γ = 0.1 = 1/L", "γ = 0.15 in (1/L, 2/L)", "γ = 0.2 = 2/L", "γ = 0.3 > 2/L"]
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["γ = 0.05 < 1/L", "γ = 0.1 = 1/L"]
    plt.close(fig)
    fig = gd_figure("rosenbrock", lrs=(1e-3, 2e-3), steps=2)  # not a quadratic: no L to compare with
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["γ = 0.001", "γ = 0.002"]
    plt.close(fig)


@pytest.mark.parametrize("name, star", [("quadratic", (0.0, 0.0)), ("rosenbrock", (1.0, 1.0))])
def test_contours_are_drawn_in_the_landscapes_window_with_its_minimiser(name, star):
    fig, ax = plt.subplots()
    draw_contours(ax, name)
    x0, x1, y0, y1 = LANDSCAPES[name].window
    assert ax.get_xlim() == (x0, x1) and ax.get_ylim() == (y0, y1) and ax.get_title() == LANDSCAPES[name].title
    minimiser = next(line for line in ax.get_lines() if line.get_label() == "minimiser")
    assert (minimiser.get_xdata()[0], minimiser.get_ydata()[0]) == star
    assert LANDSCAPES[name].f(torch.tensor([star], dtype=torch.float64)).item() == LANDSCAPES[name].minimum
    plt.close(fig)


def test_draw_path_follows_the_schedule_and_draws_the_gap_to_the_minimum():
    fig, axes = plt.subplots(1, 2)
    path = draw_path(axes, "rosenbrock", 1e-3, 150, schedule="inverse_sqrt", color="C3", label="mine")
    expected = gd_path(rosenbrock, [-1.2, 1.0], 150, 1e-3, "inverse_sqrt")
    torch.testing.assert_close(path, expected, rtol=0, atol=0)
    trace, gap = axes[0].get_lines()[-1], axes[1].get_lines()[-1]
    assert trace.get_label() == gap.get_label() == "mine" and trace.get_marker() == "None"  # no dots past 100 steps
    torch.testing.assert_close(torch.as_tensor(gap.get_ydata()), rosenbrock(expected))
    assert gap.get_xdata().tolist() == list(range(151)) and axes[1].get_yscale() == "log"
    draw_path(axes, "quadratic", 0.1, 5)
    assert axes[0].get_lines()[-1].get_marker() == "o" and axes[0].get_lines()[-1].get_label() == "γ = 0.1"
    plt.close(fig)


def test_choosing_another_landscape_resets_the_sliders_to_its_preset_and_the_schedule_is_used(shown_by):
    shown = shown_by(gd_widget)
    explorer = gd_explorer()
    landscape, schedule = explorer.children[0].children
    lr_slider, steps_slider = explorer.children[1].children
    assert (lr_slider.value, steps_slider.value) == (0.1, 40) and list(landscape.options) == list(LANDSCAPES)
    assert [key for _, key in schedule.options] == ["constant", "inverse", "inverse_square", "inverse_sqrt"]
    steps_slider.value = 6
    schedule.value = "inverse"
    gap = shown[-1].axes[1].get_lines()[0]
    expected = gd_path(LANDSCAPES["quadratic"].f, [-1.8, 0.6], 6, 0.1, "inverse")
    torch.testing.assert_close(torch.as_tensor(gap.get_ydata()), LANDSCAPES["quadratic"].f(expected))
    landscape.value = "rosenbrock"
    assert (lr_slider.value, steps_slider.value) == (1e-3, 2000)
    assert shown[-1].axes[0].get_title() == LANDSCAPES["rosenbrock"].title
    assert len(shown[-1].axes[1].get_lines()[0].get_xdata()) == 2001
    plt.close("all")


def test_an_unknown_landscape_is_refused_with_the_known_names():
    message = r"^name='himmelblau' is not allowed; choose one of 'quadratic', 'rosenbrock'$"
    for call in (lambda: gd_figure("himmelblau"), lambda: gd_explorer("himmelblau"),
                 lambda: draw_path(plt.subplots(1, 2)[1], "himmelblau", 0.1, 3)):
        with pytest.raises(ValueError, match=message):
            call()
    plt.close("all")
