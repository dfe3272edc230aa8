"""thesis_lib.book.glued: a number glued in a cell reads in JupyterLab's kernel as myst-nb's own
{glue:text} prints it in the book (the book's side: tests/test_book_fixes.py)."""


import pytest
from myst_nb.core.variables import format_plain_text

from thesis_lib.book import glued as G

@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(G, "_values", {})
    monkeypatch.setattr(G, "_views", {})


@pytest.mark.parametrize("value, spec, shown", [(0.59123, "share:.0%", "59%"), (0.59123, "share", "0.59123"),
                                                ("1,093 epochs", "share", "1,093 epochs"), (87, "share:.1f", "87.0"),
                                                (12345, "share:,", "12,345"), (-3.2e-7, "share:.1e", "-3.2e-07")])
def test_a_glued_number_prints_as_myst_nbs_glue_text_prints_it(value, spec, shown):
    G.glue("share", value)
    assert G.glued(spec).value == shown
    fmt = spec.partition(":")[2]
    assert shown == format_plain_text(repr(value), fmt)


def test_a_view_made_before_its_cell_ran_shows_the_number_once_it_is_glued_and_every_view_follows():
    early, percent = G.glued("gap:.2f"), G.glued("gap:.0%")
    assert early.value == percent.value == G.PENDING
    G.glue("gap", 0.4567)
    assert (early.value, percent.value) == ("0.46", "46%")
    G.glue("gap", 0.5)
    assert (early.value, percent.value, G.glued("gap").value) == ("0.50", "50%", "0.5")


def test_text_is_escaped_for_the_html_view():
    G.glue("label", "a < b")
    assert G.glued("label").value == "a &lt; b"


@pytest.mark.parametrize("spec", ["", "other.ipynb::share", 3])
def test_a_spec_that_is_no_key_of_this_page_is_refused_by_name(spec):
    with pytest.raises(ValueError, match=r"^spec=.* is not allowed; it must be '<key>' or '<key>:<format>'"):
        G.glued(spec)
