"""Kernel explorer: edit a 3×3 kernel, choose a digit, watch the cross-correlation (Prop 1.3.6) respond.

:func:`draw_response` draws one state (digit, kernel, response); the chapter calls it directly for
the static twin, and :func:`kernel_explorer` redraws it whenever an entry or the digit changes.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch

from ...vision import cross_correlate, named_kernels
from ..plots import FIGURE_WIDTH


def draw_response(image: torch.Tensor, kernel: torch.Tensor, title: str = "digit", fig=None):
    """Digit, kernel and response ψ0 ⋆ k side by side, each with a colour bar; returns the figure."""
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"image.shape={tuple(image.shape)}, kernel.shape={tuple(kernel.shape)} are not allowed; "
                         f"both must be 2-D (one channel)")
    fig = fig or plt.figure(figsize=(FIGURE_WIDTH, 2.8), layout="constrained")
    axes = fig.subplots(1, 3, gridspec_kw=dict(width_ratios=[1, 0.8, 1]))
    response = cross_correlate(image[None].float(), kernel.float())[0]
    bound = float(response.abs().max()) or 1.0
    kbound = float(kernel.abs().max()) or 1.0
    panels = [(image, "gray", 0, 255, f"{title}\n{image.shape[0]}×{image.shape[1]}", "grey level"),
              (kernel, "RdBu_r", -kbound, kbound, f"kernel k\n{kernel.shape[0]}×{kernel.shape[1]}", "weight"),
              (response, "RdBu_r", -bound, bound, f"response ψ0⋆k\n{response.shape[0]}×{response.shape[1]}",
               "response (grey level × weight)")]
    for ax, (data, cmap, vmin, vmax, name, unit) in zip(axes, panels):
        shown = ax.imshow(data.float().numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label=unit)
        ax.set_title(name, pad=10)  # clear of the top row's tick label
        ax.set(xlabel="column j", ylabel="row i")
    axes[1].set(xticks=range(kernel.shape[1]), yticks=range(kernel.shape[0]))
    for i, row in enumerate(kernel.tolist()):
        for j, value in enumerate(row):
            axes[1].text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=9,
                         color="white" if abs(value) > 0.6 * kbound else "black")
    return fig


class KernelExplorer(widgets.VBox):
    """A 3×3 grid of kernel entries, a preset menu and a digit chooser above the live figure."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None = None, preset: str = "Sobel x"):
        presets = named_kernels()
        if preset not in presets:
            raise ValueError(f"preset={preset!r} is not allowed; choose one of {', '.join(map(repr, presets))}")
        self._images, self._labels, self._presets = images, labels, presets
        self.entries = [widgets.FloatText(value=0.0, step=0.5, layout=widgets.Layout(width="70px"))
                        for _ in range(9)]
        wide = {"description_width": "initial"}
        self.preset = widgets.Dropdown(options=list(presets), value=preset, description="preset", style=wide)
        self.index = widgets.BoundedIntText(value=0, min=0, max=len(images) - 1, description="test image #",
                                            style=wide)
        self.output = widgets.Output()
        grid = widgets.GridBox(self.entries, layout=widgets.Layout(grid_template_columns="repeat(3, 75px)"))
        super().__init__([widgets.HBox([widgets.VBox([widgets.Label("kernel k (editable)"), grid]),
                                        widgets.VBox([self.preset, self.index])]), self.output])
        self._load_preset()
        self.preset.observe(self._load_preset, names="value")
        self.index.observe(self._redraw, names="value")
        for entry in self.entries:
            entry.observe(self._redraw, names="value")

    def kernel(self) -> torch.Tensor:
        """The kernel currently in the grid."""
        return torch.tensor([entry.value for entry in self.entries]).reshape(3, 3)

    def image(self) -> torch.Tensor:
        return self._images[self.index.value]

    def response(self) -> torch.Tensor:
        """What the figure shows on the right: the chosen digit cross-correlated with the kernel."""
        return cross_correlate(self.image()[None].float(), self.kernel())[0]

    def _load_preset(self, change=None) -> None:
        self._updating = True
        for entry, value in zip(self.entries, self._presets[self.preset.value].flatten().tolist()):
            entry.value = round(value, 4)
        self._updating = False
        self._redraw()

    def _redraw(self, change=None) -> None:
        if self._updating:
            return
        label = "" if self._labels is None else f", label {int(self._labels[self.index.value])}"
        with self.output:
            self.output.clear_output(wait=True)
            fig = draw_response(self.image(), self.kernel(), title=f"test image {self.index.value}{label}")
            plt.show()
            plt.close(fig)


def kernel_explorer(images: torch.Tensor, labels: torch.Tensor | None = None, preset: str = "Sobel x") -> KernelExplorer:
    """The explorer over ``images`` (uint8 ``[N, H, W]``), starting from a named 3×3 kernel."""
    return KernelExplorer(images, labels, preset)
