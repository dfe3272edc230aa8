"""Walking the 3-D latent space of Algorithm 1's autoencoder: three sliders pick a code z ∈ R³, the
decoder f_d draws it live, and a rotatable 3-D scatter of the test codes (coloured by digit)
shows where z lies.

:func:`draw_latent_scatter` and :func:`draw_decode_grid` are the static twins: the chapter calls
them directly so the rendered book shows the same idea without a kernel.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import nn

from ...latent_space import decode
from ..plots import FIGURE_WIDTH

DIGIT_COLOURS = plt.get_cmap("tab10")


def _check_codes(codes: torch.Tensor, dims: int | None = 3) -> None:
    if not isinstance(codes, torch.Tensor) or codes.ndim != 2 or (dims is not None and codes.shape[1] != dims):
        shape = tuple(codes.shape) if isinstance(codes, torch.Tensor) else type(codes).__name__
        raise ValueError(f"codes with shape {shape} are not allowed; they must be a tensor [N, {dims or 'd'}]")


def draw_latent_scatter(codes: torch.Tensor, labels: torch.Tensor, ax=None, elev: float = 20, azim: float = -60,
                        point: torch.Tensor | None = None, max_points: int = 3000, legend: bool = True):
    """3-D scatter of ``codes`` [N, 3] coloured by digit ``labels``; ``point`` (a code) drawn as a black star.

    Returns the axes. At most ``max_points`` codes are drawn (the first ones). Without ``legend`` the
    caller draws one for several scatters (:func:`digit_legend`).
    """
    _check_codes(codes)
    if ax is None:
        ax = plt.figure(figsize=(6.5, 5.5)).add_subplot(projection="3d")
    z, y = codes[:max_points].numpy(), labels[:max_points].numpy()
    for digit in range(10):
        keep = y == digit
        ax.scatter(*z[keep].T, s=3, alpha=0.6, color=DIGIT_COLOURS(digit), label=str(digit), depthshade=False)
    if point is not None:
        ax.scatter(*point.reshape(3, 1).numpy(), s=250, marker="*", color="black", label="z")
    for axis, name in zip((ax.xaxis, ax.yaxis, ax.zaxis), ("$z_1$", "$z_2$", "$z_3$")):
        axis.set_label_text(name)
        axis.labelpad = 8  # clear of the middle tick's label
    ax.locator_params(nbins=3)  # two or three ticks per axis: no overlapping labels
    ax.view_init(elev=elev, azim=azim)
    ax.set_box_aspect(None, zoom=0.8)  # the axis labels inside the axes' area, not past the figure's side
    if legend:
        ax.legend(title="digit", loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=11, **LEGEND_STYLE)
    return ax


#: the digit legend's compact spacing: eleven entries in one row under a scatter
LEGEND_STYLE = dict(markerscale=3, fontsize=8, columnspacing=0.8, handletextpad=0.1)


def digit_legend(fig, ax) -> None:
    """One digit legend under the whole figure for the scatters drawn without theirs."""
    fig.legend(*ax.get_legend_handles_labels(), title="digit", loc="lower center", ncols=11, **LEGEND_STYLE)


def grid_codes(codes: torch.Tensor, axes: tuple[int, int] = (0, 1), n: int = 9,
               fixed: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An n×n grid of codes in the plane through ``fixed`` (default: the median code) spanned by the
    latent coordinates ``axes``, each from the 1st to the 99th percentile of ``codes``.

    Returns (grid [n, n, d], values along axes[0] [n], values along axes[1] [n]); grid[i, j] has
    coordinate axes[0] = values0[j] and axes[1] = values1[i] (rows go along axes[1]).
    """
    _check_codes(codes, dims=None)
    a, b = axes
    if a == b or not (0 <= a < codes.shape[1] and 0 <= b < codes.shape[1]):
        raise ValueError(f"axes={axes!r} is not allowed; give two different latent coordinates in "
                         f"0..{codes.shape[1] - 1}")
    q = torch.quantile(codes.float(), torch.tensor([0.01, 0.99]), dim=0)
    values0 = torch.linspace(q[0, a].item(), q[1, a].item(), n)
    values1 = torch.linspace(q[0, b].item(), q[1, b].item(), n)
    centre = codes.float().median(0).values if fixed is None else fixed.float()
    grid = centre.repeat(n, n, 1)
    grid[:, :, a] = values0[None, :]
    grid[:, :, b] = values1[:, None]
    return grid, values0, values1


def draw_decode_grid(model: nn.Module, codes: torch.Tensor, axes: tuple[int, int] = (0, 1), n: int = 9,
                     fixed: torch.Tensor | None = None, fig=None):
    """The static twin of the explorer: decodes on the grid of :func:`grid_codes`, one image per cell,
    the latent coordinate values on the axes. Returns the figure."""
    grid, values0, values1 = grid_codes(codes, axes, n, fixed)
    images = decode(model, grid.reshape(n * n, -1)).clamp(0, 1)
    side = images.shape[-1]
    # top row of the mosaic = largest value along axes[1], so that the vertical axis points up
    mosaic = images.reshape(n, n, side, side).flip(0).permute(0, 2, 1, 3).reshape(n * side, n * side)
    fig = fig or plt.figure(figsize=(6.5, 6.5))
    ax = fig.add_subplot()
    ax.imshow(mosaic.numpy(), cmap="gray", vmin=0, vmax=1)
    centres = torch.arange(n) * side + side / 2 - 0.5
    ax.set_xticks(centres.numpy(), [f"{v:.2g}" for v in values0.tolist()], rotation=45)
    ax.set_yticks(centres.numpy(), [f"{v:.2g}" for v in values1.flip(0).tolist()])
    a, b = axes
    others = [i for i in range(grid.shape[-1]) if i not in axes]
    fixed_text = ", ".join(f"$z_{i + 1}$ = {grid[0, 0, i].item():.2g}" for i in others)
    ax.set(xlabel=f"latent coordinate $z_{a + 1}$", ylabel=f"latent coordinate $z_{b + 1}$",
           title=f"decoded $f_d(z)$ on a grid ({fixed_text})" if others else "decoded $f_d(z)$ on a grid")
    fig.tight_layout()
    return fig


class LatentExplorer(widgets.VBox):
    """Sliders z1, z2, z3 (ranges: the test codes' 1st to 99th percentile, start at their median),
    azimuth and elevation of the 3-D view; the figure shows f_d(z) and z among the codes."""

    def __init__(self, model: nn.Module, codes: torch.Tensor, labels: torch.Tensor):
        _check_codes(codes)
        self._model, self._codes, self._labels = model, codes, labels
        q = torch.quantile(codes.float(), torch.tensor([0.01, 0.5, 0.99]), dim=0)
        self.sliders = [widgets.FloatSlider(value=q[1, i].item(), min=q[0, i].item(), max=q[2, i].item(),
                                            step=(q[2, i] - q[0, i]).item() / 100, description=f"z{i + 1}",
                                            continuous_update=False, readout_format=".2f")
                        for i in range(3)]
        self.azimuth = widgets.IntSlider(value=-60, min=-180, max=180, step=5, description="azimuth",
                                         continuous_update=False)
        self.elevation = widgets.IntSlider(value=20, min=-90, max=90, step=5, description="elevation",
                                           continuous_update=False)
        self.output = widgets.Output()
        super().__init__([widgets.HBox([widgets.VBox(self.sliders), widgets.VBox([self.azimuth, self.elevation])]),
                          self.output])
        for slider in (*self.sliders, self.azimuth, self.elevation):
            slider.observe(self._redraw, names="value")
        self._redraw()

    def code(self) -> torch.Tensor:
        """The code z the sliders point at, shape [3]."""
        return torch.tensor([s.value for s in self.sliders])

    def image(self) -> torch.Tensor:
        """f_d(z) for the current code, [28, 28], not clipped."""
        return decode(self._model, self.code()[None])[0]

    def _redraw(self, change=None) -> None:
        with self.output:
            self.output.clear_output(wait=True)
            fig = plt.figure(figsize=(FIGURE_WIDTH, 3.2))
            left = fig.add_subplot(1, 2, 1)
            left.imshow(self.image().clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
            z = ", ".join(f"{v:.2f}" for v in self.code().tolist())
            left.set(title=f"$f_d(z)$ for z = ({z})", xticks=[], yticks=[])
            draw_latent_scatter(self._codes, self._labels, fig.add_subplot(1, 2, 2, projection="3d"),
                                elev=self.elevation.value, azim=self.azimuth.value, point=self.code())
            fig.tight_layout()
            plt.show()
            plt.close(fig)


def latent_explorer(model: nn.Module, codes: torch.Tensor, labels: torch.Tensor) -> LatentExplorer:
    """The explorer for an autoencoder with a 3-D bottleneck, its codes [N, 3] and their digit labels."""
    return LatentExplorer(model, codes, labels)
