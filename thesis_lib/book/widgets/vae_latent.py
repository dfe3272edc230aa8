"""Explorers of a trained VAE's latent space (§3.2): sliders on a 2-D latent point decoded live, and
a slider along the line between two encoded digits.

``latent_manifold_figure`` and ``interpolation_figure`` are the static twins the rendered book shows
without a kernel.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from ...infra.device import model_device
from ...generation import interpolate, latent_grid
from ..plots import FIGURE_WIDTH, tile
from ...vae import VAE


def _side(model: VAE) -> int:
    side = int(round(model.data_dim ** 0.5))
    if side * side != model.data_dim:
        raise ValueError(f"model has {model.data_dim} outputs; square images are needed to draw them")
    return side


@torch.no_grad()
def _decode(model: VAE, z: torch.Tensor) -> torch.Tensor:
    device = model_device(model)
    side = _side(model)
    return model.decode_mean(z.to(device)).cpu().reshape(-1, side, side)


def _scatter_codes(ax, codes: torch.Tensor | None, labels: torch.Tensor | None) -> None:
    if codes is None:
        return
    points = ax.scatter(codes[:, 0].numpy(), codes[:, 1].numpy(), c=None if labels is None else labels.numpy(),
                        cmap="tab10", s=2, alpha=0.6, vmin=-0.5, vmax=9.5)
    if labels is not None:
        plt.colorbar(points, ax=ax, ticks=range(10), label="digit")


def _check_2d(model: VAE) -> None:
    if model.latent != 2:
        raise ValueError(f"model has latent={model.latent}; the latent-plane explorers need latent=2")


def latent_manifold_figure(model: VAE, n: int = 15, codes: torch.Tensor | None = None,
                           labels: torch.Tensor | None = None, quantiles: tuple[float, float] = (0.05, 0.95)):
    """Left: the means μ(x) of test digits in the latent plane (coloured by digit) and the grid;
    right: the digits decoded at the n×n inverse-CDF grid of :func:`~thesis_lib.generation.latent_grid`
    between the prior's ``quantiles``."""
    _check_2d(model)
    z = latent_grid(n, *quantiles)
    fig, (ax_codes, ax_grid) = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 3.3), layout="constrained",
                                            gridspec_kw={"width_ratios": [1.1, 1]})
    _scatter_codes(ax_codes, codes, labels)
    ax_codes.plot(z[:, 0].numpy(), z[:, 1].numpy(), "+", color="0.35", ms=3, mew=0.6, alpha=0.5,
                  label="grid points decoded on the right")  # light: the codes stay visible beneath
    ax_codes.set(xlabel="$z_1$", ylabel="$z_2$", title="Encoder means of test digits", aspect="equal")
    ax_codes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8)  # under the codes, not over them
    side = _side(model)
    ax_grid.imshow(tile(_decode(model, z), n).numpy(), cmap="gray", vmin=0, vmax=1)
    ticks = (torch.arange(n) * side + side / 2).tolist()
    values = z[:n, 0].tolist()
    every = max(1, n // 5)
    ax_grid.set_xticks(ticks[::every], [f"{v:.1f}" for v in values[::every]])
    ax_grid.set_yticks(ticks[::every], [f"{v:.1f}" for v in values[::-1][::every]])
    ax_grid.set(xlabel="$z_1$", ylabel="$z_2$", title="Decoded means $E[x\\,|\\,z]$ on the grid")
    return fig


def latent_explorer(model: VAE, codes: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                    limit: float = 3.0) -> widgets.VBox:
    """Two sliders set z = (z_1, z_2); the decoded digit and the point among the test codes update live."""
    _check_2d(model)
    sliders = [widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=0.05, description=name,
                                   continuous_update=True) for name in ("z₁", "z₂")]
    out = widgets.Output()

    def redraw(_=None):
        z = torch.tensor([[s.value for s in sliders]])
        with out:
            out.clear_output(wait=True)
            fig, (ax_codes, ax_digit) = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 3.0), layout="constrained")
            _scatter_codes(ax_codes, codes, labels)
            ax_codes.plot(*z[0].tolist(), "r*", ms=14, mec="k")
            ax_codes.set(xlim=(-limit, limit), ylim=(-limit, limit), xlabel="$z_1$", ylabel="$z_2$",
                         title="latent point", aspect="equal")
            ax_digit.imshow(_decode(model, z)[0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax_digit.set(title=f"decoded at z = ({z[0, 0]:.2f}, {z[0, 1]:.2f})")
            ax_digit.axis("off")
            display(fig)
            plt.close(fig)

    for s in sliders:
        s.observe(redraw, "value")
    redraw()
    return widgets.VBox([widgets.HBox(sliders), out])


def interpolation_figure(model: VAE, pairs: list[tuple[torch.Tensor, torch.Tensor]], steps: int = 10):
    """One row per pair: the first digit, ``steps`` decoded points on the latent line, the second digit."""
    side = _side(model)
    fig, axes = plt.subplots(len(pairs), steps + 2, figsize=(FIGURE_WIDTH, FIGURE_WIDTH / (steps + 2) * 1.2 * len(pairs) + 0.4),
                             squeeze=False, layout="constrained")
    for row, (a, b) in zip(axes, pairs):
        path = interpolate(model, a.reshape(-1), b.reshape(-1), steps).reshape(-1, side, side)
        images = [a.reshape(side, side).cpu(), *path, b.reshape(side, side).cpu()]
        for j, (ax, img) in enumerate(zip(row, images)):
            ax.imshow(img.numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j in (0, steps + 1):
                for spine in ax.spines.values():
                    spine.set(color="C1", linewidth=2)
    for j, ax in enumerate(axes[0]):
        title = "x_a" if j == 0 else "x_b" if j == steps + 1 else f"t={(j - 1) / (steps - 1):.2f}"
        ax.set_title(title, fontsize=8)
    return fig


def interpolation_explorer(model: VAE, x_a: torch.Tensor, x_b: torch.Tensor) -> widgets.VBox:
    """A slider t in [0, 1] moves along z = (1 - t) μ(x_a) + t μ(x_b); the decoded digit updates live."""
    side = _side(model)
    t = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.02, description="t", continuous_update=True)
    path = interpolate(model, x_a.reshape(-1), x_b.reshape(-1), 51).reshape(-1, side, side)
    out = widgets.Output()

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 3, figsize=(6, 2.3), layout="constrained")
            images = [x_a.reshape(side, side).cpu(), path[round(t.value * 50)], x_b.reshape(side, side).cpu()]
            titles = ["x_a (t = 0)", f"decoded at t = {t.value:.2f}", "x_b (t = 1)"]
            for ax, img, title in zip(axes, images, titles):
                ax.imshow(img.numpy(), cmap="gray", vmin=0, vmax=1)
                ax.set_title(title, fontsize=9)
                ax.axis("off")
            display(fig)
            plt.close(fig)

    t.observe(redraw, "value")
    redraw()
    return widgets.VBox([t, out])
