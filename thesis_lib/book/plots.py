"""Shared plotting helpers: image grids, mosaics, image panels and the provenance line every figure
caption carries."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import torch

from ..infra.training import History


def show_images(images: torch.Tensor, ncols: int = 10, titles: list[str] | None = None, ax=None,
                cmap: str = "gray", size: float = 1.2):
    """Show a batch of grey images ([n, H, W] or [n, H*W] for square images) as a grid.

    Returns the figure. Pixel values are shown on their own scale (uint8 0–255 or floats 0–1).
    """
    images = images.detach().cpu()
    if images.ndim == 2:
        side = int(round(images.shape[1] ** 0.5))
        images = images.reshape(len(images), side, side)
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    vmax = 255 if images.dtype == torch.uint8 else 1.0
    if ax is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if titles else 0)),
                                 squeeze=False)
        axes = axes.ravel()
    else:
        fig, axes = ax.flat[0].figure, list(ax.flat)
    for i, a in enumerate(axes):
        a.axis("off")
        if i < n:
            a.imshow(images[i], cmap=cmap, vmin=0, vmax=vmax)
            if titles:
                a.set_title(titles[i], fontsize=8)
    return fig


def tile(images: torch.Tensor, rows: int) -> torch.Tensor:
    """Images [rows·cols, h, w] (or [rows·cols, h·w] for square images) as one [rows·h, cols·w] mosaic,
    row by row."""
    if images.ndim == 2:
        side = int(round(images.shape[1] ** 0.5))
        images = images.reshape(len(images), side, side)
    n, h, w = images.shape
    if n % rows:
        raise ValueError(f"rows={rows} is not allowed for {n} images; it must divide the number of images")
    return images.reshape(rows, n // rows, h, w).permute(0, 2, 1, 3).reshape(rows * h, n // rows * w)


def image_panel(ax, image: torch.Tensor, title: str, cmap: str = "gray", symmetric: bool = False,
                unit: str = "grey level", limits: dict | None = None):
    """One image in ``ax`` with a colour bar, its size under the title and labelled pixel axes.

    ``symmetric`` centres the colour scale on 0 (for signed responses); ``limits`` (``vmin``, ``vmax``)
    fixes it instead.
    """
    data = image.detach().squeeze().float().cpu()
    bound = float(data.abs().max()) or 1.0
    if limits is None:
        limits = dict(vmin=-bound, vmax=bound) if symmetric else {}
    shown = ax.imshow(data.numpy(), cmap=cmap, **limits)
    ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label=unit)
    ax.set(title=f"{title}\n{data.shape[0]}×{data.shape[1]}", xlabel="column j", ylabel="row i")
    return shown


def provenance(history: History, data: str = "MNIST, 60,000 training images") -> str:
    """The line a caption carries: budget, device, epochs, data and where the model came from."""
    budget = history.extra.get("budget", "unknown")
    return (f"{budget} budget, trained on {history.device}, {history.epochs} epochs, {data}; "
            f"model source: {history.origin}")


def say(text: str, width: int = 76) -> None:
    """Print a long line wrapped to the width of a page's code block (continuation lines indented)."""
    print(textwrap.fill(text, width, subsequent_indent="    "))
