"""Network diagrams: the drawn nodes and edges are those the widths call for."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_hex

from thesis_lib.book.diagrams import COLOURS, draw_network, layer_roles


def drawn(ax):
    columns = [c for c in ax.collections if isinstance(c, PathCollection)]
    edges = [c for c in ax.collections if isinstance(c, LineCollection)]
    return columns, sum(len(c.get_segments()) for c in edges)


def colour(column):
    return to_hex(column.get_facecolor()[0])


@pytest.mark.parametrize("widths,kind", [
    ((4, 3, 4, 5, 3, 7, 2), "network"),      # Figure 1.1
    ((5, 4, 3, 2, 3, 4, 5), "autoencoder"),  # Figure 2.1
    ((5, 4, 3, 2), "encoder"),               # Figure 2.2
    ((2, 3, 4, 5), "decoder"),               # Figure 2.3
])
def test_thesis_figures_have_the_nodes_and_edges_of_their_widths(widths, kind):
    fig, ax = draw_network(widths, kind)
    columns, n_edges = drawn(ax)
    assert [len(c.get_offsets()) for c in columns] == list(widths)
    assert n_edges == sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("input") == 1 and texts.count("output") == 1
    assert all(f"$d_{{{j}}}={w}$" in texts for j, w in enumerate(widths))
    plt.close(fig)


def test_figure_1_1_counts():
    fig, ax = draw_network((4, 3, 4, 5, 3, 7, 2))
    columns, n_edges = drawn(ax)
    assert sum(len(c.get_offsets()) for c in columns) == 28 and n_edges == 94
    assert [colour(c) for c in columns] == [COLOURS["input"]] + [COLOURS["hidden"]] * 5 + [COLOURS["output"]]
    plt.close(fig)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=2, max_size=6), st.one_of(st.none(), st.integers(2, 9)))
def test_random_widths_with_and_without_truncation(widths, max_nodes):
    fig, ax = draw_network(widths, max_nodes=max_nodes)
    columns, n_edges = drawn(ax)
    shown = [w if max_nodes is None else min(w, max_nodes) for w in widths]
    assert [len(c.get_offsets()) for c in columns] == shown
    assert n_edges == sum(a * b for a, b in zip(shown[:-1], shown[1:]))
    assert [t.get_text() for t in ax.texts].count("⋮") == sum(s < w for s, w in zip(shown, widths))
    plt.close(fig)


def test_autoencoder_colours_the_bottleneck_and_its_parts():
    fig, ax = draw_network((784, 128, 64, 12, 3, 12, 64, 128, 784), "autoencoder", max_nodes=10)
    columns, _ = drawn(ax)
    assert [colour(c) for c in columns] == ([COLOURS["encoder"]] * 4 + [COLOURS["bottleneck"]]
                                            + [COLOURS["decoder"]] * 4)
    assert [len(c.get_offsets()) for c in columns] == [10, 10, 10, 10, 3, 10, 10, 10, 10]
    texts = [t.get_text() for t in ax.texts]
    assert "encoder $f_e$" in texts and "decoder $f_d$" in texts and "$d_{4}=3$" in texts
    plt.close(fig)


def test_roles():
    assert layer_roles((5, 4, 3, 2), "encoder") == ["encoder"] * 3 + ["bottleneck"]
    assert layer_roles((2, 3, 4, 5), "decoder") == ["bottleneck"] + ["decoder"] * 3
    assert layer_roles((5, 4, 3, 2, 3, 4, 5), "autoencoder")[3] == "bottleneck"


@pytest.mark.parametrize("widths,kind,match", [
    ((4, 3), "pyramid", r"kind='pyramid' is not allowed; choose one of 'network', 'encoder'"),
    ((5, 6, 2), "encoder", "is not allowed for an encoder"),
    ((2, 1, 5), "decoder", "is not allowed for a decoder"),
    ((5, 4, 3), "autoencoder", "bottleneck\\) must lie strictly inside"),
    ((5, 3, 4, 2, 5), "autoencoder", "is not allowed for an encoder"),
    ((4,), "network", "at least two positive integers"),
])
def test_bad_input_is_a_clear_error(widths, kind, match):
    with pytest.raises(ValueError, match=match):
        draw_network(widths, kind)


def test_bad_max_nodes_is_a_clear_error():
    with pytest.raises(ValueError, match="max_nodes=1 is not allowed"):
        draw_network((3, 2), max_nodes=1)
