"""Readable figures: no two texts of a figure overlap, none runs past its edge, and no legend covers
plotted data.

:func:`problems` measures a drawn figure with matplotlib's own extents (every text the renderer
drew: titles, labels, tick labels, offsets, legends, annotations) and the display positions of
its data (line paths, scatter points, bars). :func:`watch` is a matplotlib figure hook
(``figure.hooks`` in :data:`~thesis_lib.book.plots.BOOK_STYLE`): each time a chapter's figure is
drawn it warns with :class:`FigureTextWarning`, which the book build (``-W``, stderr turned into
warnings) makes an error.
"""

from __future__ import annotations

import warnings

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

#: pixels kept free around each text: texts closer than this read as one ("1020")
GAP_PX = 1.0
#: the step, in pixels, at which a line's path is sampled against a legend
STEP_PX = 2.0


class FigureTextWarning(UserWarning):
    """A figure drawn with overlapping texts or a legend over its data."""


def _axis_texts(ax) -> tuple[set[int], list[Text]]:
    """The ids of every text an axes' axes own, and those of them the renderer draws."""
    owned, drawn = set(), []
    axis_on = getattr(ax, "_axis3don", ax.axison)
    for axis in ax._axis_map.values():
        ticks = axis.get_major_ticks() + axis.get_minor_ticks()
        texts = [axis.label, axis.offsetText] + [t for tick in ticks for t in (tick.label1, tick.label2)]
        owned.update(map(id, texts))
        if axis_on and axis.get_visible():
            low, high = sorted(axis.get_view_interval())
            slack = 1e-9 * max(high - low, 1e-300)
            shown = [tick for tick in axis.majorTicks[:len(axis.get_majorticklocs())] +
                     axis.minorTicks[:len(axis.get_minorticklocs())] if low - slack <= tick.get_loc() <= high + slack]
            drawn += [axis.label, axis.offsetText] + [t for tick in shown for t in (tick.label1, tick.label2)]
    return owned, drawn


def drawn_texts(fig: Figure) -> list[Text]:
    """The texts of a drawn ``fig`` that show: visible, not empty, and (for an axis's labels) of an
    axis that is drawn and a tick inside the view."""
    owned, texts = set(), []
    for ax in fig.get_axes():
        ax_owned, ax_drawn = _axis_texts(ax)
        owned |= ax_owned
        texts += ax_drawn
    texts += [t for t in fig.findobj(Text) if id(t) not in owned]
    seen, shown = set(), []
    for text in texts:
        if id(text) not in seen and text.get_visible() and text.get_text().strip():
            seen.add(id(text))
            shown.append(text)
    return shown


def _bbox(text: Text, renderer) -> Bbox:
    return text.get_window_extent(renderer).padded(GAP_PX / 2)


def _label(text: Text) -> str:
    return repr(text.get_text().strip().replace("\n", " ")[:30])


def text_overlaps(texts: list[Text], renderer) -> list[str]:
    """Each pair of ``texts`` whose extents (with :data:`GAP_PX` between them) intersect."""
    boxes = [_bbox(t, renderer) for t in texts]
    found = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = boxes[i], boxes[j]
            if min(a.x1, b.x1) > max(a.x0, b.x0) and min(a.y1, b.y1) > max(a.y0, b.y0):
                found.append(f"text {_label(texts[i])} overlaps text {_label(texts[j])}")
    return found


def texts_outside(texts: list[Text], width: float, renderer) -> list[str]:
    """Each of ``texts`` that reaches past the left or right edge of a figure ``width`` pixels wide:
    cut off, or (saved with a tight bounding box, as the notebooks do) widening the figure past the
    column. Past the top or bottom a tight box only makes the figure taller, which the page shows whole."""
    return [f"text {_label(t)} runs past the figure's side" for t in texts
            for box in [t.get_window_extent(renderer)] if box.x0 < -1 or box.x1 > width + 1]


def _data_points(ax) -> list[np.ndarray]:
    """Display positions of an axes' data: its lines sampled every :data:`STEP_PX` pixels, its
    scatter points and its bars' corners and centres."""
    points = []
    for line in ax.get_lines():
        if not line.get_visible() or line.get_transform() != line.axes.transData:
            continue  # axhline/axvline and other references drawn in axes coordinates are not data
        xy = line.get_transform().transform(line.get_path().vertices)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if line.get_linestyle() not in ("None", "", " ") and len(xy) > 1:
            steps = np.maximum(np.ceil(np.linalg.norm(np.diff(xy, axis=0), axis=1) / STEP_PX), 1).astype(int)
            xy = np.concatenate([a + np.linspace(0, 1, n, endpoint=False)[:, None] * (b - a)
                                 for a, b, n in zip(xy[:-1], xy[1:], steps)] + [xy[-1:]])
        points.append(xy)
    for collection in ax.collections:
        if isinstance(collection, PathCollection) and collection.get_visible() and len(collection.get_offsets()):
            points.append(collection.get_offset_transform().transform(collection.get_offsets()))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible():
            corners = patch.get_window_extent().corners()
            points.append(np.vstack([corners, corners.mean(axis=0)]))
    return points


def legend_covers(fig: Figure, renderer) -> list[str]:
    """Each legend that lies over data of its own axes."""
    found = []
    for ax in fig.get_axes():
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        inside = sum(int(((xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1)).sum())
                     for xy in _data_points(ax) if len(xy))
        if inside:
            title = ax.get_title() or ax.get_ylabel() or "an axes"
            found.append(f"the legend of {title[:30]!r} covers {inside} plotted points")
    return found


def _problems(fig: Figure, renderer) -> list[str]:
    texts = drawn_texts(fig)
    return text_overlaps(texts, renderer) + legend_covers(fig, renderer) + texts_outside(texts, fig.bbox.width, renderer)


def problems(fig: Figure) -> list[str]:
    """Everything :mod:`figure_text` finds wrong with ``fig``, drawn as it would be shown."""
    fig.canvas.draw()
    return _problems(fig, fig.canvas.get_renderer())


def _on_draw(event) -> None:
    fig = event.canvas.figure
    found = _problems(fig, event.renderer)
    if found:
        name = fig._suptitle.get_text() if fig._suptitle else next((a.get_title() for a in fig.axes if a.get_title()), "")
        warnings.warn(f"figure {name[:40]!r} is hard to read: " + "; ".join(found[:6]) +
                      (f" (and {len(found) - 6} more)" if len(found) > 6 else ""), FigureTextWarning, stacklevel=2)


def watch(fig: Figure) -> None:
    """The ``figure.hooks`` entry: check ``fig`` each time it is drawn."""
    fig.canvas.mpl_connect("draw_event", _on_draw)
