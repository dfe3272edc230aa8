"""Readable figures: the checker finds texts that overlap and legends over data, measured by
matplotlib's own extents, and stays quiet on figures laid out apart."""

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from thesis_lib.book.figure_text import FigureTextWarning, drawn_texts, problems  # noqa: E402
from thesis_lib.book.plots import BOOK_STYLE  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_a_figure_laid_out_apart_has_no_problem():
    fig, (left, right) = plt.subplots(1, 2, figsize=(6.7, 3), layout="constrained")
    left.plot([0, 1], [0, 1], label="rising")
    left.legend(loc="lower right")
    left.set(title="left", xlabel="x", ylabel="y")
    right.scatter([0.1, 0.2], [0.9, 0.8], label="points")
    right.legend(loc="upper right")
    right.set_title("right")
    assert problems(fig) == []


def test_two_titles_printed_at_the_same_place_are_reported_by_name():
    fig, ax = plt.subplots(figsize=(4, 3))
    fig.text(0.5, 0.5, "first title", ha="center")
    fig.text(0.52, 0.5, "second title", ha="center")
    assert problems(fig) == ["text 'first title' overlaps text 'second title'"]


def test_a_title_past_the_figures_side_is_reported_and_a_label_below_its_bottom_is_not():
    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    ax.set_title("a title far too long for a figure only four inches wide, so cut at its two edges")
    assert "text 'a title far too long for a fig' runs past the figure's side" in problems(fig)
    ax.set_title("short")
    assert problems(fig) == []
    ax.set_xlabel("a label\non\nso\nmany\nlines\nthat\nit\nends\nbelow")
    fig.set_layout_engine("none")  # a tight bounding box only makes such a figure taller
    fig.canvas.draw()
    assert ax.xaxis.label.get_window_extent().y0 < 0 and problems(fig) == []


def test_tick_labels_that_run_together_are_reported_and_a_gap_between_them_is_not():
    fig, ax = plt.subplots(figsize=(1.5, 1.5), layout="constrained")
    ax.plot([0, 1e6], [0, 1])
    ax.set_xticks(np.linspace(0, 1e6, 9))
    assert any("overlaps text" in p for p in problems(fig))
    ax.set_xticks([0, 1e6])
    assert problems(fig) == []


def test_only_the_texts_that_are_drawn_count():
    """Axes switched off, ticks outside the view and empty texts draw nothing."""
    fig, axes = plt.subplots(1, 8, figsize=(6.7, 1.2))
    for ax in axes:
        ax.imshow(np.zeros((28, 28)))
        ax.axis("off")
    ax = axes[0]
    ax.set_title("")
    assert drawn_texts(fig) == [] and problems(fig) == []
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_xticks([-5, 0, 1, 5])
    ax.set_xlim(0, 1)
    fig.canvas.draw()
    shown = {t.get_text() for t in drawn_texts(fig) if t in ax.get_xticklabels()}
    assert shown == {"0", "1"}


def test_a_legend_over_a_line_is_reported_even_between_its_vertices():
    """The line's two vertices lie far outside the legend; its segment runs through it."""
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0.5, 0.5], label="flat")
    ax.legend(loc="center")
    (found,) = problems(fig)
    assert found.startswith("the legend of 'an axes' covers") and "plotted points" in found
    ax.get_legend().set_loc("upper right")
    assert problems(fig) == []


def test_a_legend_over_scatter_points_or_bars_is_reported():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter([0.5], [0.5], label="one point")
    ax.scatter([0, 1], [0, 1], label="corners")
    ax.set_title("scatter")
    ax.legend(loc="center")
    assert problems(fig) == ["the legend of 'scatter' covers 1 plotted points"]
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar([0, 1, 2], [1, 1, 1], label="bars")
    ax.legend(loc="center")
    assert len(problems(fig)) == 1


def test_a_reference_line_in_axes_coordinates_is_not_data():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 0.1], label="data")
    ax.axhline(0.5, label="reference")
    ax.legend(loc="center right")
    assert problems(fig) == []


def test_the_3d_axes_tick_labels_are_measured_where_they_are_drawn():
    rng = np.random.default_rng(0)
    fig = plt.figure(figsize=(4, 4))
    ax = fig.add_subplot(projection="3d")
    ax.scatter(*rng.normal(size=(3, 100)))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ticks = [t for t in drawn_texts(fig) if any(t is tick.label1 for tick in ax.xaxis.majorTicks)]
    assert ticks and all(0 <= t.get_window_extent(renderer).x0 < 400 for t in ticks)


def test_the_book_style_warns_on_every_drawn_figure_with_a_problem():
    with plt.rc_context(BOOK_STYLE):
        fig, ax = plt.subplots(figsize=(4, 3))
    fig.text(0.5, 0.5, "first", ha="center")
    fig.text(0.5, 0.5, "second", ha="center")
    with pytest.warns(FigureTextWarning, match="'first' overlaps text 'second'"):
        fig.savefig(io.BytesIO())
    with plt.rc_context(BOOK_STYLE):
        clean, ax = plt.subplots(figsize=(4, 3))
    ax.set_title("alone")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FigureTextWarning)
        clean.canvas.draw()
