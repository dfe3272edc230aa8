"""Every number in the prose is computed: a decimal or percentage typed into a markdown cell fails."""

import pytest

from thesis_lib.book import pages as book
from thesis_lib.book import prose


@pytest.mark.parametrize("page", book.pages(), ids=lambda p: p.docname)
def test_no_typed_result_in_the_prose(page):
    typed = prose.typed_numbers(page)
    assert not typed, (f"{page.docname}: results typed into the prose; glue them from the cell that computes "
                       "them (myst_nb.glue + {glue:text}) or, for a published figure, add it to "
                       "prose.CITED_FIGURES:\n" + "\n".join(f"  cell {t.cell}: {t.text!r} in …{t.context}…"
                                                          for t in typed))


def _page(*cells):
    return book.Page("chapters/x", "X", [
        {"cell_type": kind, "metadata": {}, "source": text} for kind, text in cells])


def test_the_scanner_finds_results_and_spares_settings_references_and_citations():
    page = _page(
        ("markdown", "# 1.2 Training\n\nSGD reached a test risk of 0.079 and about 97.5 % accuracy; "
                     "GD about 86 %. See Definition 1.2.3, Theorem 1.2.4 and (1.5), with $\\gamma = 0.3$ "
                     "(a setting), Burda et al.'s 86.76, {glue:text}`risk:.3f`, {eval}`glued(\"gap:.2f\")` and `lr=0.05` "
                     "in code."),
        ("code", "config = dict(lr=0.3, momentum=0)\n"),
    )
    assert [t.text for t in prose.typed_numbers(page)] == ["0.079", "97.5", "about 86"]


def test_the_scanner_finds_powers_of_ten_counts_and_amounts_in_words_in_prose_and_captions():
    """The typed results issue 24 found that the decimal-only scanner missed, each caught once."""
    page = _page(
        ("markdown", "the iterates blow up to $10^{167}$; it holds to rounding ($10^{-16}$), the second "
                     "by about $10^{-3}$; about a third and about a fifth; in about two hours; "
                     "the checkpoint (200 epochs); 40 epochs on 20,000 canvases; above about 17"),
        ("code", "lr = 3e-4\nsaturated = torch.sigmoid(torch.tensor(17.0))\n"),
        ("markdown", "Adam with $\\gamma = 3\\cdot10^{-4}$ and $\\varepsilon = 10^{-8}$ (a setting above: 3e-4; "
                     "1e-8 is not), mean over 64 runs, one pair per layer"),
    )
    page.cells[1]["metadata"] = {"mystnb": {"figure": {"caption": "stable below $2/L$, about 0.03; "
                                                                  "only for $\\sigma$ above about 1"}}}
    assert [(t.cell, t.text) for t in prose.typed_numbers(page)] == [
        (0, "10^{167}"), (0, "10^{-16}"), (0, "10^{-3}"), (0, "about a third"), (0, "about a fifth"),
        (0, "about two"), (0, "200 epochs"), (0, "40 epochs"),
        (1, "0.03"), (1, "about 1"),
        (2, "10^{-8}"), (2, "1e-8"),
    ]


def test_the_scanner_failed_on_the_chapters_before_they_were_glued():
    before = _page(("markdown", "minibatch SGD ended with the lower test risk (0.079 against 0.113)"),
                   ("markdown", "The cell below counts: about 81 % of all MNIST test pixels are $0$"))
    assert len(prose.typed_numbers(before)) == 3


def test_glue_keys_are_read_from_both_roles_and_only_from_this_page():
    text = '{eval}`glued("a:.2f")` {glue:text}`b` {eval}`glued("c")` {glue:text}`other.ipynb::d:.1f`'
    assert sorted(prose.glue_keys(text)) == ["a", "b", "c"]


def test_every_glue_role_in_a_chapter_has_a_glue_call():
    for page in book.pages():
        code = "\n".join("".join(c["source"]) for c in page.cells if c["cell_type"] == "code")
        for cell in page.cells:
            if cell["cell_type"] != "markdown":
                continue
            for key in prose.glue_keys("".join(cell["source"])):
                assert f'"{key}"' in code, f"{page.docname}: {{glue}}`{key}` is never glued"


def test_no_test_marker_shows_in_a_rendered_cell():
    """nbval's markers are cell tags (nbval-ignore-output), not comments a reader of the page would see."""
    for page in book.pages():
        marked = [i for i, c in enumerate(page.cells) if c["cell_type"] == "code" and "NBVAL_" in "".join(c["source"])]
        assert not marked, f"{page.docname}: cells {marked} carry an NBVAL_ comment; use the nbval-ignore-output tag"


def test_a_decimal_is_read_as_per_cent_only_when_a_percent_sign_follows_it():
    """5.0 at the very end of a cell is not "5.0 %": it stays a typed result though 0.05 is a setting."""
    page = _page(("markdown", "the risk fell by 5.0"), ("code", "lr = 0.05\n"), ("markdown", "so 5 % of the pixels"))
    assert [(t.cell, t.text) for t in prose.typed_numbers(page)] == [(0, "5.0")]
