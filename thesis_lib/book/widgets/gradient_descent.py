"""Explorer for gradient descent (Thm 1.2.4, eq. 1.5) on a 2-D function: a step-size slider and the
path x^(0), x^(1), ... drawn on the contour plot, beside the gap f(x^(t)) − f* on a log scale.

``gd_figure`` is the static twin the rendered book shows without a kernel.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from ...convergence import Quadratic, rosenbrock
from ...optim import SCHEDULES, gd_path
from ..plots import FIGURE_WIDTH


@dataclasses.dataclass(frozen=True)
class Landscape:
    """A 2-D test function with its minimum value, a starting point and the window to draw."""

    title: str
    f: Callable[[torch.Tensor], torch.Tensor]
    minimum: float
    start: tuple[float, float]
    window: tuple[float, float, float, float]
    lr: float
    steps: int


LANDSCAPES = {
    "quadratic": Landscape("f(x) = ½(x₁² + 10 x₂²), L = 10", Quadratic([1.0, 10.0]), 0.0, (-1.8, 0.6),
                           (-2.0, 2.0, -1.0, 1.0), 0.1, 40),
    "rosenbrock": Landscape("Rosenbrock (1 − x₁)² + 100 (x₂ − x₁²)²", rosenbrock, 0.0, (-1.2, 1.0),
                            (-2.0, 2.0, -1.0, 3.0), 1e-3, 2000),
}


def _landscape(name: str) -> Landscape:
    if name not in LANDSCAPES:
        raise ValueError(f"name={name!r} is not allowed; choose one of {', '.join(map(repr, LANDSCAPES))}")
    return LANDSCAPES[name]


def draw_contours(ax, name: str) -> None:
    """Log-spaced contour lines of the landscape and its minimiser (a star)."""
    land = _landscape(name)
    x0, x1, y0, y1 = land.window
    gx, gy = torch.meshgrid(torch.linspace(x0, x1, 300, dtype=torch.float64),
                            torch.linspace(y0, y1, 300, dtype=torch.float64), indexing="xy")
    z = land.f(torch.stack([gx, gy], -1).reshape(-1, 2)).reshape(gx.shape) - land.minimum
    levels = np.geomspace(max(z.min().item(), 1e-3), z.max().item(), 14)
    ax.contour(gx, gy, z + 1e-12, levels=levels, colors="0.6", linewidths=0.7)
    star = (0.0, 0.0) if name == "quadratic" else (1.0, 1.0)
    ax.plot(*star, "*", color="k", mec="white", ms=13, zorder=5, label="minimiser")  # above every path
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$", title=land.title)
    ax.set_aspect("equal")


def draw_path(axes, name: str, lr: float, steps: int, schedule: str = "constant", color: str = "C0",
              label: str | None = None) -> torch.Tensor:
    """Run eq. (1.5) and draw the path on ``axes[0]`` and f(x^(t)) − f* on ``axes[1]``; returns the path."""
    land = _landscape(name)
    with np.errstate(all="ignore"):
        path = gd_path(land.f, land.start, steps, lr, schedule)
    label = label or f"γ = {lr:g}"
    axes[0].plot(path[:, 0], path[:, 1], "o-" if steps <= 100 else "-", color=color, ms=2.5, lw=0.8,
                 alpha=0.8, label=label)
    gap = (land.f(path) - land.minimum).clamp_min(1e-300)
    axes[1].semilogy(torch.arange(steps + 1), gap, color=color, label=label)
    axes[1].set(xlabel="step t", ylabel="f(x$^{(t)}$) − f*", title="gap to the minimum")
    axes[1].grid(alpha=0.3, which="both")
    return path


def _relation(lr: float, smoothness: float) -> str:
    for bound, text in ((1, "1/L"), (2, "2/L")):
        if np.isclose(lr * smoothness, bound):
            return f" = {text}"
    return " > 2/L" if lr * smoothness > 2 else (" < 1/L" if lr * smoothness < 1 else " in (1/L, 2/L)")


def gd_figure(name: str = "quadratic", lrs: tuple[float, ...] = (0.02, 0.1, 0.19, 0.21), steps: int = 30):
    """Paths of gradient descent with constant step sizes ``lrs`` on one landscape (static twin);
    on the quadratic the legend places each γ relative to 1/L and 2/L."""
    fig, axes = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 3.6), gridspec_kw={"width_ratios": [1.3, 1]},
                             layout="constrained")
    draw_contours(axes[0], name)
    f = _landscape(name).f
    for i, lr in enumerate(lrs):
        relation = _relation(lr, f.smoothness) if isinstance(f, Quadratic) else ""
        draw_path(axes, name, lr, steps, color=f"C{i}", label=f"γ = {lr:g}{relation}")
    # one legend, under both panels: inside either it would hide paths or gaps
    fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    return fig


def gd_explorer(name: str = "quadratic") -> widgets.VBox:
    """Dropdowns for the landscape and the schedule, sliders for the base step γ and the number of steps."""
    land = _landscape(name)
    choice = widgets.Dropdown(options=list(LANDSCAPES), value=name, description="f")
    schedule = widgets.Dropdown(options=[(label, key) for key, (label, _) in SCHEDULES.items()],
                                value="constant", description="γ_t")
    lr = widgets.FloatLogSlider(value=land.lr, base=10, min=-4, max=0, step=0.05, description="γ",
                                readout_format=".2e", continuous_update=False)
    steps = widgets.IntSlider(value=land.steps, min=1, max=5000, description="steps", continuous_update=False)
    out = widgets.Output()

    def reset(_=None):
        preset = _landscape(choice.value)
        lr.value, steps.value = preset.lr, preset.steps

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 3.2), gridspec_kw={"width_ratios": [1.3, 1]})
            draw_contours(axes[0], choice.value)
            draw_path(axes, choice.value, lr.value, steps.value, schedule.value)
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    choice.observe(reset, "value")
    for control in (choice, schedule, lr, steps):
        control.observe(redraw, "value")
    redraw()
    return widgets.VBox([widgets.HBox([choice, schedule]), widgets.HBox([lr, steps]), out])
