"""Composed MNIST on demand in a live kernel (chapter 3.3): pick the digit of each slot and move a
style slider; the conditional VAE of single digits decodes both with the same code
(:func:`thesis_lib.on_demand.request_canvas`). The page's static twin is
:func:`thesis_lib.book.static_explorers.on_demand_explorer`.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from ...conditional_vae import ConditionalVAE
from ...on_demand import request_canvas
from ..plots import FIGURE_WIDTH


def on_demand_explorer(model: ConditionalVAE, direction: torch.Tensor, start: tuple[int, int] = (3, 7),
                       limit: float = 2.5) -> widgets.VBox:
    """Two digit menus and a style slider t: the canvas of z = t · ``direction`` redraws live."""
    digits = [widgets.Dropdown(options=list(range(10)), value=value, description=name)
              for name, value in (("left", start[0]), ("right", start[1]))]
    style = widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=0.05, description="style")
    out = widgets.Output()

    def redraw(_=None):
        canvas = request_canvas(model.cpu(), digits[0].value, digits[1].value, style.value * direction.cpu())
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(FIGURE_WIDTH / 3, FIGURE_WIDTH / 3), layout="constrained")
            ax.imshow(canvas.numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"asked {digits[0].value} + {digits[1].value}, style {style.value:+.2f}", fontsize=9)
            ax.axis("off")
            display(fig)
            plt.close(fig)

    for control in (*digits, style):
        control.observe(redraw, "value")
    redraw()
    return widgets.VBox([widgets.HBox(digits), style, out])
