"""The book's one figure style, and the shared plotting helpers: image grids, mosaics, image panels
and the provenance line every figure caption carries.

Every figure is at most :data:`FIGURE_WIDTH` inches wide at :data:`FIGURE_DPI`: 670 px, the width
the rendered book gives an output at 1280 px, so a figure is shown at its natural size and its
text at the sizes of :data:`BOOK_STYLE`. Each chapter calls :func:`use_book_style` once.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import torch

from ..infra.training import History
from . import lab_captions

#: characters of a printed line that the rendered book shows whole (the chapters' code keeps to 88)
OUTPUT_WIDTH = 86
FIGURE_DPI = 100
FIGURE_WIDTH = 6.7
BOOK_STYLE = {
    "figure.dpi": FIGURE_DPI, "savefig.dpi": FIGURE_DPI, "figure.figsize": (FIGURE_WIDTH, 3.4),
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "figure.titlesize": 11,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9, "legend.framealpha": 0.9,
    "figure.hooks": ["thesis_lib.book.figure_text:watch"],
}


def use_book_style() -> None:
    """Apply :data:`BOOK_STYLE` to matplotlib (a chapter's first cell calls it); in JupyterLab, also
    print each figure's caption under it (:mod:`~thesis_lib.book.lab_captions`)."""
    plt.rcParams.update(BOOK_STYLE)
    lab_captions.register()


def _square(images: torch.Tensor) -> torch.Tensor:
    """Flat square images [n, H*H] as [n, H, H]; images [n, H, W] are returned unchanged."""
    if images.ndim == 2:
        side = int(round(images.shape[1] ** 0.5))
        return images.reshape(len(images), side, side)
    return images


def show_images(images: torch.Tensor, ncols: int = 10, titles: list[str] | None = None, ax=None,
                cmap: str = "gray", size: float | None = None):
    """Show a batch of grey images ([n, H, W] or [n, H*W] for square images) as a grid.

    Returns the figure. Pixel values are shown on their own scale (uint8 0–255 or floats 0–1).
    """
    images = _square(images.detach().cpu())
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    vmax = 255 if images.dtype == torch.uint8 else 1.0
    size = size or min(1.2, FIGURE_WIDTH / ncols)
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
    images = _square(images)
    n, h, w = images.shape
    if n % rows:
        raise ValueError(f"rows={rows} is not allowed for {n} images; it must divide the number of images")
    return images.reshape(rows, n // rows, h, w).permute(0, 2, 1, 3).reshape(rows * h, n // rows * w)


def image_panel(ax, image: torch.Tensor, title: str, cmap: str = "gray", symmetric: bool = False,
                unit: str = "grey level", limits: dict | None = None, compact: bool = False):
    """One image in ``ax`` with a colour bar, its size under the title and pixel axes counted from 1.

    ``symmetric`` centres the colour scale on 0 (for signed responses); ``limits`` (``vmin``, ``vmax``)
    fixes it instead. ``compact`` (small panels of a grid sharing one scale) leaves out the colour bar,
    the ticks and the axis labels; the caller draws one colour bar for the grid.
    """
    data = image.detach().squeeze().float().cpu()
    bound = float(data.abs().max()) or 1.0
    if limits is None:
        limits = dict(vmin=-bound, vmax=bound) if symmetric else {}
    rows, cols = data.shape
    # pixel centres at 1..M and 1..N: the axes count rows and columns from 1, as the thesis does
    shown = ax.imshow(data.numpy(), cmap=cmap, extent=(0.5, cols + 0.5, rows + 0.5, 0.5), **limits)
    ax.set_title(f"{title}\n{data.shape[0]}×{data.shape[1]}")
    if compact:
        ax.set(xticks=[], yticks=[])
    else:
        ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label=unit)
        ax.set(xlabel="column j", ylabel="row i")
    return shown


def provenance(history: History, data: str = "MNIST, 60,000 training images") -> str:
    """The lines a caption carries: budget, device, epochs, data and where the model came from,
    wrapped to the width of a printed output (:data:`OUTPUT_WIDTH`)."""
    budget = history.extra.get("budget", "unknown")
    return wrap(f"{budget} budget, trained on {history.device}, {history.epochs} epochs, {data}; "
                f"model source: {history.origin}")


def wrap(text: str, width: int = OUTPUT_WIDTH) -> str:
    """``text`` wrapped to the width of a page's printed output, continuation lines indented."""
    return textwrap.fill(text, width, subsequent_indent="    ")


def say(text: str, width: int = OUTPUT_WIDTH) -> None:
    """Print a long line wrapped to the width of a page's code block (continuation lines indented)."""
    print(wrap(text, width))


def models_note(experiments, budget: str | None = None) -> str:
    """One Markdown paragraph for the top of a chapter: which of its trained models come from the
    committed full-budget checkpoints and which are trained (or taken from the cache) at ``budget``."""
    from ..experiments.experiment import committed_mismatch
    from ..infra.device import active_budget

    budget = budget or active_budget()
    committed = [e for e in experiments if committed_mismatch(e, budget) is None]
    trained = [e for e in experiments if e not in committed]
    names = lambda group: ", ".join(f"`{e.name}`" for e in group)  # noqa: E731
    parts = []
    if committed:
        parts.append(f"{'All ' if not trained else ''}{len(committed)} of the page's trained models "
                     f"({names(committed)}) are the committed full-budget checkpoints of `make reproduce`, "
                     "loaded whatever the budget, so the page shows their full-budget training")
    if trained:
        epochs = ", ".join(f"{e.config(budget).epochs}" for e in trained)
        parts.append(f"{names(trained)} {'is' if len(trained) == 1 else 'are'} trained at the {budget} "
                     f"budget ({epochs} epochs) or taken from your cache")
    return f"**Models on this page** (budget `{budget}`): " + "; ".join(parts) + "."
