"""Fidelity: every numbered statement of the thesis is in the book, non-empty, and linked."""

import json
import re

import pytest

from thesis_lib.book import pages as book
from thesis_lib.book.pages import THESIS_LABELS, label_title


def test_the_thesis_has_44_numbered_items():
    assert len(THESIS_LABELS) == len(set(THESIS_LABELS)) == 44


@pytest.fixture(scope="module")
def found():
    return book.statements()


@pytest.mark.parametrize("label", THESIS_LABELS)
def test_statement_is_in_exactly_one_chapter_with_a_body(found, label):
    blocks = [s for s in found if s.label == label]
    assert len(blocks) == 1, f"{label} appears {len(blocks)} times in the chapters"
    block = blocks[0]
    kind = re.match(r"thesis-([a-z]+)-", label).group(1)
    assert block.kind == kind, f"{label} is a {block.kind} block, expected {kind}"
    assert len(block.body) > 40, f"{label} points at an (almost) empty block: {block.body!r}"


def test_intro_links_every_statement():
    intro = (book.REPO_ROOT / "intro.md").read_text()
    missing = [label for label in THESIS_LABELS if f"<{label}>`" not in intro]
    assert not missing, f"intro.md does not link {missing}"


def test_label_titles():
    assert label_title("thesis-definition-1-1-3") == "Definition 1.1.3"
    assert label_title("thesis-algorithm-1") == "Algorithm 1"


def test_errata_are_unique_titled_and_explained():
    errata = book.errata()
    assert len(errata) >= 7, "the design notes list at least seven errata to verify"
    labels = [e.label for e in errata]
    assert len(labels) == len(set(labels))
    for e in errata:
        assert e.title.startswith("Erratum"), e
        assert e.severity in book.SEVERITIES, f"{e.label}: title {e.title!r} names no severity of {book.SEVERITIES}"
        assert len(e.body) > 80, e


def _write_book(tmp_path, cells):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/a\n")
    (tmp_path / "chapters").mkdir(exist_ok=True)
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "chapters" / "a.ipynb").write_text(json.dumps(nb))


def _md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def test_parser_reads_statements_figures_and_errata(tmp_path):
    _write_book(tmp_path, [
        _md("# A chapter\n\n```{prf:lemma} Flattening (Lemma 1.3.3)\n:label: thesis-lemma-1-3-3\n:nonumber:\n\n"
            "An image is a vector.\n```\n\n```{prf:remark} No label\n\nignored\n```"),
        {"cell_type": "code", "metadata": {"mystnb": {"figure": {"name": "thesis-figure-1-1", "caption": "A net"}}},
         "source": "draw()", "outputs": [], "execution_count": None},
        _md("(erratum-x)=\n:::{admonition} Erratum · wrong formula or index — Lemma 1.3.3\n:class: warning erratum\n"
            "**Correction.** Use the right index.\n\nWrong index in {glue:text}`share:.0%` of cases; the cell\n"
            "below shows it.\n:::\n"),
        _md("(erratum-y)=\n:::{admonition} Erratum · false claim or proof — Theorem 9.9.9\n:class: warning erratum\n"
            "**Correction.** It is true only for n = 1.\n\nFalse.\n:::\n"),
    ])
    statements = book.statements(tmp_path)
    assert [(s.label, s.kind, s.body) for s in statements] == [
        ("thesis-lemma-1-3-3", "lemma", "An image is a vector."), ("thesis-figure-1-1", "figure", "A net")]
    erratum, other = book.errata(tmp_path)
    assert (erratum.label, erratum.severity, erratum.what, erratum.page_title, erratum.correction) == (
        "erratum-x", "wrong formula or index", "Lemma 1.3.3", "A chapter", "Use the right index.")
    assert "the chapter's code shows it" in erratum.portable_body()
    page = book.errata_markdown(tmp_path)
    assert page.startswith("**2 errata**: 1 false claim or proof, 1 wrong formula or index, 0 notation or wording.")
    assert "{ref}`A chapter <erratum-x>`" in page and "{glue:text}`a.ipynb::share:.0%`" in page
    assert page.index("Theorem 9.9.9") < page.index("Lemma 1.3.3"), "gravest first"
    assert "| Theorem 9.9.9 (false claim or proof) | It is true only for n = 1. | {ref}`A chapter <erratum-y>` |" in page


def test_an_erratum_without_a_severity_or_a_correction_is_refused(tmp_path):
    _write_book(tmp_path, [_md("(erratum-x)=\n:::{admonition} Erratum — Lemma 1.3.3\n:class: warning\nWrong.\n:::\n")])
    with pytest.raises(ValueError, match=r"errata without a severity in their title: \['erratum-x'\]"):
        book.errata_markdown(tmp_path)
    _write_book(tmp_path, [_md("(erratum-x)=\n:::{admonition} Erratum · false claim or proof — Lemma 1.3.3\n"
                               ":class: warning\nWrong.\n:::\n")])
    with pytest.raises(ValueError, match=r"errata without a one-line correction: \['erratum-x'\]"):
        book.errata_markdown(tmp_path)


_KINDS = {"Def": "definition", "Definition": "definition", "Thm": "theorem", "Theorem": "theorem",
          "Prop": "proposition", "Proposition": "proposition", "Lemma": "lemma", "Cor": "corollary",
          "Corollary": "corollary", "Ex": "example", "Example": "example", "Remark": "remark", "Rem": "remark"}
_CITATION = re.compile(r"\b(" + "|".join(_KINDS) + r")\.? (\d+\.\d+\.\d+(?:, \d+\.\d+\.\d+)*)")


def library_citations():
    """Every "Def 1.1.3"-style citation in thesis_lib, as (file, kind, number); "Def 1.1.6, 2.1.1" cites two."""
    for path in sorted((book.REPO_ROOT / "thesis_lib").rglob("*.py")):
        for match in _CITATION.finditer(path.read_text()):
            for number in match.group(2).split(", "):
                yield path.relative_to(book.REPO_ROOT).as_posix(), _KINDS[match.group(1)], number


def test_every_statement_the_library_cites_is_in_the_chapters_with_that_kind_and_number():
    numbered = {re.sub(r"^(thesis|vae)-", "", s.label) for s in book.statements()}
    cited = list(library_citations())
    assert len(cited) > 100
    wrong = sorted({(f, f"{kind} {number}") for f, kind, number in cited
                    if f"{kind}-{number.replace('.', '-')}" not in numbered})
    assert not wrong, f"thesis_lib cites statements that no chapter numbers so: {wrong}"


def test_the_citation_reader_reads_lists_and_abbreviations(tmp_path, monkeypatch):
    (tmp_path / "thesis_lib").mkdir()
    (tmp_path / "thesis_lib" / "m.py").write_text('"""Built from Def 1.1.6, 2.1.1 (Thm. 3.2.4); not 1.2.3."""')
    monkeypatch.setattr(book, "REPO_ROOT", tmp_path)
    assert list(library_citations()) == [("thesis_lib/m.py", "definition", "1.1.6"),
                                         ("thesis_lib/m.py", "definition", "2.1.1"),
                                         ("thesis_lib/m.py", "theorem", "3.2.4")]


def test_the_build_digest_changes_with_the_library_chapters_and_manifests(tmp_path):
    for name in ("thesis_lib/widgets/w.py", "chapters/a.ipynb", "checkpoints/m.json", "_config.yml", "_toc.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    before = book.build_inputs_digest(tmp_path)
    (tmp_path / "README.md").write_text("not an input")
    assert book.build_inputs_digest(tmp_path) == before
    for name in ("thesis_lib/widgets/w.py", "chapters/a.ipynb", "checkpoints/m.json"):
        (tmp_path / name).write_text(name + " changed")
        assert book.build_inputs_digest(tmp_path) != before, name
        (tmp_path / name).write_text(name)
    assert book.build_inputs_digest(tmp_path) == before


def test_every_erratum_opens_with_a_one_line_correction_and_reads_out_of_context():
    import re

    found = book.errata()
    short = [e.label for e in found if not e.correction or len(e.correction) > 200 or "\n" in e.correction]
    assert not short, f"errata without a one-line correction of at most 200 characters: {short}"
    pointing = [e.label for e in found
                if re.search(r"\b(?:cells?|figure|box)\s+(?:below|above)\b", e.portable_body(), re.I)]
    assert not pointing, f"errata that point at a neighbouring cell on the errata page: {pointing}"
    table = book.errata_markdown().split("\n\n")[1]
    assert table.startswith("| statement | correction | where |")
    assert all(e.correction in table for e in found)
