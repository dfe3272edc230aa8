"""Fully connected network diagrams computed from the layer widths (Figures 1.1, 2.1, 2.2, 2.3).

One column of nodes per entry of (d_0, ..., d_L) and an edge from every node of a column to
every node of the next, so the picture changes when the widths change. Columns wider than
``max_nodes`` are drawn with ``max_nodes`` nodes and a vertical ellipsis; the label under each
column always gives the true width.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.collections import LineCollection
from matplotlib.patches import Patch

from ..autoencoders import check_decoder_widths, check_encoder_widths
from ..networks import check_widths
from .plots import FIGURE_WIDTH

KINDS = ("network", "encoder", "decoder", "autoencoder")
COLOURS = {"input": "#5aa469", "hidden": "#4a7ab5", "output": "#d1603d",
           "encoder": "#4a7ab5", "bottleneck": "#e3a33b", "decoder": "#8e6bb5"}
SPANS = {"encoder": "#dce7f5", "decoder": "#ebe3f5"}


def layer_roles(widths: Sequence[int], kind: str = "network") -> list[str]:
    """The colour role of each column: input/hidden/output, or encoder/bottleneck/decoder.

    For an autoencoder the bottleneck is the narrowest column (the first, if several); the
    widths must fall to it (Def 2.1.1) and rise after it (Def 2.1.2).
    """
    widths = check_widths(widths)
    n = len(widths)
    if kind == "network":
        return ["input"] + ["hidden"] * (n - 2) + ["output"]
    if kind == "encoder":
        check_encoder_widths(widths)
        return ["encoder"] * (n - 1) + ["bottleneck"]
    if kind == "decoder":
        check_decoder_widths(widths)
        return ["bottleneck"] + ["decoder"] * (n - 1)
    if kind == "autoencoder":
        j = widths.index(min(widths))
        if j == 0 or j == n - 1:
            raise ValueError(f"widths={widths!r} is not allowed for an autoencoder diagram: the narrowest "
                             "layer (the bottleneck) must lie strictly inside")
        check_encoder_widths(widths[:j + 1])
        check_decoder_widths(widths[j:])
        return ["encoder"] * j + ["bottleneck"] + ["decoder"] * (n - 1 - j)
    raise ValueError(f"kind={kind!r} is not allowed; choose one of {', '.join(map(repr, KINDS))}")


def node_positions(width: int, max_nodes: int | None = None) -> tuple[list[float], float | None]:
    """Vertical positions of the drawn nodes of one column (centred on 0) and of its ellipsis, if any."""
    if max_nodes is None or width <= max_nodes:
        return [(width - 1) / 2 - i for i in range(width)], None
    top = (max_nodes + 1) // 2
    slots = [max_nodes / 2 - i for i in range(max_nodes + 1)]
    return slots[:top] + slots[top + 1:], slots[top]


def draw_network(widths: Sequence[int], kind: str = "network", ax=None, max_nodes: int | None = None,
                 title: str | None = None):
    """Draw the fully connected network with widths (d_0, ..., d_L); returns ``(fig, ax)``.

    ``kind`` colours the columns: ``network`` (input, hidden, output), ``encoder``, ``decoder`` or
    ``autoencoder`` (encoder, bottleneck, decoder, with the two parts shaded).
    """
    roles = layer_roles(widths, kind)
    widths = check_widths(widths)
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 2):
        raise ValueError(f"max_nodes={max_nodes!r} is not allowed; it must be None or an integer >= 2")
    columns = [node_positions(w, max_nodes) for w in widths]
    tallest = max(len(ys) + (gap is not None) for ys, gap in columns)
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(FIGURE_WIDTH, max(4.0, 1.25 * len(widths))), max(2.6, 0.42 * tallest + 1.4)),
                               layout="constrained")
    else:
        fig = ax.figure
    n_edges = sum(len(a[0]) * len(b[0]) for a, b in zip(columns[:-1], columns[1:]))
    segments = [[(j, y0), (j + 1, y1)]
                for j, ((ys0, _), (ys1, _)) in enumerate(zip(columns[:-1], columns[1:]))
                for y0 in ys0 for y1 in ys1]
    ax.add_collection(LineCollection(segments, colors="0.45", linewidths=0.8 if n_edges < 300 else 0.35,
                                     alpha=0.7 if n_edges < 300 else 0.35, zorder=1))
    for j, ((ys, gap), role) in enumerate(zip(columns, roles)):
        ax.scatter([j] * len(ys), ys, s=180, color=COLOURS[role], edgecolors="black", linewidths=0.8, zorder=3)
        if gap is not None:
            ax.text(j, gap, "⋮", ha="center", va="center", fontsize=14, zorder=3)
    bottom, top = -tallest / 2 - 0.3, tallest / 2 + 0.3
    last = len(widths) - 1
    crowded = last > 5  # a hidden layer's name on two lines, so that neighbouring names keep apart
    for j, w in enumerate(widths):
        name = ("input" if j == 0 else "output" if j == last
                else "bottleneck" if roles[j] == "bottleneck" else ("hidden\n" if crowded else "hidden ") + str(j))
        ax.text(j, top + 0.15, name, ha="center", va="bottom", fontsize=9)
        ax.text(j, bottom - 0.15, f"$d_{{{j}}}={w}$", ha="center", va="top", fontsize=9)
    if kind == "autoencoder":
        b = roles.index("bottleneck")
        ax.axvspan(-0.5, b, color=SPANS["encoder"], zorder=0)
        ax.axvspan(b, last + 0.5, color=SPANS["decoder"], zorder=0)
        above = top + (1.4 if crowded else 0.9)
        ax.text(b / 2, above, "encoder $f_e$", ha="center", fontsize=10)
        ax.text((b + last) / 2, above, "decoder $f_d$", ha="center", fontsize=10)
    present = list(dict.fromkeys(roles))
    ax.legend(handles=[Patch(facecolor=COLOURS[r], edgecolor="black", label=r) for r in present],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(present), frameon=False, fontsize=9)
    ax.set_xlim(-0.6, last + 0.6)
    ax.set_ylim(bottom - 0.9, top + (1.5 if kind == "autoencoder" else 0.9) + (0.5 if crowded else 0))
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig, ax
