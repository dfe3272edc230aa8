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
                     "(a setting), Burda et al.'s 86.76, {glue:text}`risk:.3f` and `lr=0.05` in code."),
        ("code", "config = dict(lr=0.3, momentum=0)\n"),
    )
    assert [t.text for t in prose.typed_numbers(page)] == ["0.079", "97.5", "86"]


def test_the_scanner_failed_on_the_chapters_before_they_were_glued():
    before = _page(("markdown", "minibatch SGD ended with the lower test risk (0.079 against 0.113)"),
                   ("markdown", "The cell below counts: about 81 % of all MNIST test pixels are $0$"))
    assert len(prose.typed_numbers(before)) == 3


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
