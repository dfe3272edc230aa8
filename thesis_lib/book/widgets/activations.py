"""Explorer for Ex 1.1.2: pick an activation (and the leaky-ReLU slope α), see φ and its derivative φ'.

``activation_figure`` is the static twin the rendered book shows without a kernel.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from ...activations import ACTIVATION_NAMES, activation
from ..plots import FIGURE_WIDTH

TITLES = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "sigmoid": "sigmoid", "identity": "identity"}


def plot_activation(axes, name: str, alpha: float = 0.1, low: float = -5.0, high: float = 5.0,
                    points: int = 1001) -> None:
    """Draw φ on ``axes[0]`` and φ' on ``axes[1]``: the hand-written derivative as a line, autograd's as dots."""
    act = activation(name, alpha)
    t = torch.linspace(low, high, points, dtype=torch.float64, requires_grad=True)
    y = act.formula(t)
    (slope,) = torch.autograd.grad(y.sum(), t)
    t = t.detach()
    title = TITLES[name] + (f", α = {alpha:g}" if name == "leaky_relu" else "")
    axes[0].plot(t, y.detach(), color="C0")
    axes[0].set(title=title, xlabel="t", ylabel="φ(t)")
    every = max(1, points // 25)
    axes[1].plot(t, act.derivative(t), color="C1", label="φ' (formula)")
    axes[1].plot(t[::every], slope[::every], "o", color="k", ms=3, label="autograd")
    axes[1].set(title=f"derivative of {TITLES[name]}", xlabel="t", ylabel="φ'(t)")
    for ax in axes:
        ax.grid(alpha=0.3)


def activation_figure(alpha: float = 0.1, names: tuple[str, ...] = ("relu", "leaky_relu", "sigmoid")):
    """The activations of Ex 1.1.2 (top row) and their derivatives (bottom row)."""
    fig, axes = plt.subplots(2, len(names), figsize=(FIGURE_WIDTH, 4.1), squeeze=False, layout="constrained")
    for j, name in enumerate(names):
        plot_activation(axes[:, j], name, alpha)
    fig.legend(*axes[1, 0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    return fig


def activation_explorer(alpha: float = 0.1) -> widgets.VBox:
    """Dropdown for φ, slider for the leaky-ReLU slope α (active only for leaky ReLU), plot of φ and φ'."""
    choice = widgets.Dropdown(options=ACTIVATION_NAMES, value="leaky_relu", description="φ")
    slope = widgets.FloatSlider(value=alpha, min=0.0, max=1.0, step=0.01, description="α",
                                continuous_update=False)
    out = widgets.Output()

    def redraw(_=None):
        slope.disabled = choice.value != "leaky_relu"
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 3.1), layout="constrained")
            plot_activation(axes, choice.value, slope.value)
            fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
            display(fig)
            plt.close(fig)

    choice.observe(redraw, "value")
    slope.observe(redraw, "value")
    redraw()
    return widgets.VBox([widgets.HBox([choice, slope]), out])
