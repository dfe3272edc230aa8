"""thesis_lib.book.pages on small books and manifests written here: the statements, figures and errata it reads
from the chapters listed in _toc.yml, the errata and results pages it writes (checked line by line), the
build digest, and the thesis labels' titles."""

import json

import pytest

from thesis_lib.book import pages as book
from thesis_lib.book.pages import label_title


def test_a_labels_title_is_its_kind_capitalised_and_its_dotted_number():
    assert label_title("thesis-definition-1-1-3") == "Definition 1.1.3"
    assert label_title("thesis-algorithm-1") == "Algorithm 1"
    assert label_title("thesis-remark-3-1-4") == "Remark 3.1.4" and label_title("thesis-figure-2-3") == "Figure 2.3"


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
            "**Correction.** Use the right index.\n\nWrong index in {eval}`glued(\"share:.0%\")` of cases; the cell\n"
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
    assert ("| Theorem 9.9.9 (false claim or proof) | It is true only for n = 1. | {ref}`A chapter <erratum-y>` |"
            in page)


def test_an_erratum_without_a_severity_or_a_correction_is_refused(tmp_path):
    _write_book(tmp_path, [_md("(erratum-x)=\n:::{admonition} Erratum — Lemma 1.3.3\n:class: warning\nWrong.\n:::\n")])
    with pytest.raises(ValueError, match=r"errata without a severity in their title: \['erratum-x'\]"):
        book.errata_markdown(tmp_path)
    _write_book(tmp_path, [_md("(erratum-x)=\n:::{admonition} Erratum · false claim or proof — Lemma 1.3.3\n"
                               ":class: warning\nWrong.\n:::\n")])
    with pytest.raises(ValueError, match=r"errata without a one-line correction: \['erratum-x'\]"):
        book.errata_markdown(tmp_path)


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


def test_manifests_come_in_natural_order_of_name(tmp_path):
    names = ["vae-beta-4", "ae-sweep-10", "vae-beta-0.5", "ae-sweep-2", "ae-alg1-relu", "vae-beta-1"]
    for name in names:
        (tmp_path / f"{name}.json").write_text(json.dumps({"name": name}))
    assert [m["name"] for m in book.manifests(tmp_path)] == [
        "ae-alg1-relu", "ae-sweep-2", "ae-sweep-10", "vae-beta-0.5", "vae-beta-1", "vae-beta-4"]


def _cell(kind, text):
    return {"cell_type": kind, "metadata": {}, "source": text, **({"outputs": []} if kind == "code" else {})}


def test_pages_come_in_the_order_of_the_table_of_contents_with_their_first_heading(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nparts:\n  - chapters:\n"
                                       "    - file: chapters/b\n    - file: chapters/gone\n    - file: chapters/a\n")
    (tmp_path / "chapters").mkdir()
    for name, cells in {"a": [_cell("code", "# not a heading"), _cell("markdown", ["## sub\n", "# Page A\n"])],
                        "b": [_cell("markdown", "no heading"), _cell("code", "x = 1")]}.items():
        (tmp_path / "chapters" / f"{name}.ipynb").write_text(json.dumps({"cells": cells}))
    found = book.pages(tmp_path)
    assert [(p.docname, p.title) for p in found] == [("chapters/b", "chapters/b"), ("chapters/a", "Page A")]
    assert found[1].markdown() == "## sub\n# Page A\n"  # code cells left out, a list source joined
    assert found[0].markdown() == "no heading"


def test_statements_in_colon_fences_and_longer_fences_are_read_and_unlabelled_figures_are_not(tmp_path):
    _write_book(tmp_path, [
        _md("::::{prf:theorem} A theorem\n:label: thesis-theorem-1-2-4\n\nGradient descent converges.\n::::\n\n"
            "````{prf:definition}\n:nonumber:\n:label: thesis-definition-1-1-1\n\nA `code` span.\n````"),
        {"cell_type": "code", "metadata": {"mystnb": {"figure": {"caption": "no name"}}}, "source": "", "outputs": []},
        {"cell_type": "code", "metadata": {"mystnb": {"figure": {"name": "thesis-figure-2-1"}}}, "source": "",
         "outputs": []},
    ])
    assert [(s.label, s.kind, s.body, s.page) for s in book.statements(tmp_path)] == [
        ("thesis-theorem-1-2-4", "theorem", "Gradient descent converges.", "chapters/a"),
        ("thesis-definition-1-1-1", "definition", "A `code` span.", "chapters/a"),
        ("thesis-figure-2-1", "figure", "", "chapters/a")]


def _erratum(title, body, page="chapters/ch1"):
    return book.Erratum("erratum-x", title, body, page, "Chapter 1")


def test_an_errata_title_gives_its_severity_and_statement_only_in_the_stated_form():
    e = _erratum("Erratum · notation or wording — Def 1.1.3", "**Correction.** Read φ for ψ.\n\nMore.")
    assert (e.severity, e.what, e.correction) == ("notation or wording", "Def 1.1.3", "Read φ for ψ.")
    unknown = _erratum("Erratum · typo — Def 1.1.3", "No correction line.")
    assert (unknown.severity, unknown.what, unknown.correction) == (None, "Def 1.1.3", None)
    plain = _erratum("Erratum on Def 1.1.3", "text **Correction.** not at a line's start")
    assert (plain.severity, plain.what, plain.correction) == (None, "Erratum on Def 1.1.3", None)


def test_the_portable_body_points_glued_numbers_at_their_chapter_and_names_the_chapter_for_nearby_cells():
    body = ("{glue}`share` and {glue:text}`gap` and {eval}`glued(\"rate:.2f\")` and {glue:math}`other.ipynb::eq` stay "
            "glued. In the cell below it fails; the cells above show it; The figure above too; see the next cell "
            "(see the note below) and the box above (below: a plot).")
    assert _erratum("t", body, page="chapters/ch2").portable_body() == (
        "{glue}`ch2.ipynb::share` and {glue:text}`ch2.ipynb::gap:s` and {glue:text}`ch2.ipynb::rate:.2f` and "
        "{glue:math}`other.ipynb::eq` stay glued. In the chapter's code it fails; the chapter's cells show it; "
        "The chapter's figure too; see the chapter's code (see the chapter's note) and the chapter's statement "
        "box (in the chapter: a plot).")


def test_the_errata_page_counts_each_severity_and_lists_the_gravest_first(tmp_path):
    box = "(erratum-{0})=\n:::{{admonition}} Erratum · {1} — {2}\n:class: warning\n**Correction.** {3}\n\nWhy.\n:::\n"
    _write_book(tmp_path, [_md("# Chapter A"), _md(box.format("a", "notation or wording", "Def 1.1.1", "Fix a.")),
                           _md(box.format("b", "false claim or proof", "Thm 1.2.4", "Fix b.")),
                           _md(box.format("c", "notation or wording", "Def 1.1.3", "Fix c."))])
    page = book.errata_markdown(tmp_path).split("\n\n")
    assert page[0] == "**3 errata**: 1 false claim or proof, 0 wrong formula or index, 2 notation or wording."
    assert page[1].splitlines() == [
        "| statement | correction | where |", "|---|---|---|",
        "| Thm 1.2.4 (false claim or proof) | Fix b. | {ref}`Chapter A <erratum-b>` |",
        "| Def 1.1.1 (notation or wording) | Fix a. | {ref}`Chapter A <erratum-a>` |",
        "| Def 1.1.3 (notation or wording) | Fix c. | {ref}`Chapter A <erratum-c>` |"]
    assert page[2] == "## False claim or proof (1)"
    assert page[3].startswith("::::{admonition} Thm 1.2.4\n:class: warning")
    assert "## Wrong formula or index (0)" in page and "## Notation or wording (2)" in page


def _manifest(name, **fields):
    return {"name": name, "epochs": 3, "wall_time_s": 90.0, "description": f"model {name}", "device": "cpu",
            "spec": {"objective": "negative-elbo"}, "config": {"batch_size": 100, "lr": 0.001},
            "metrics": {"train_objective": 95.123456, "test_objective": 97.5}} | fields


def test_the_results_page_has_one_row_and_one_line_per_manifest_in_natural_order(tmp_path):
    manifests = [_manifest("vae-10", epochs=5, of_epochs=10, config={"batch_size": 100, "lr": 0.001,
                                                                     "lr_schedule": "burda"},
                           evaluation={"test_nll_k5000": 88.123, "active_units": 12}),
                 _manifest("vae-9", spec={"objective": "my-loss"}, metrics={"train_objective": 0.5},
                           config={"batch_size": 64, "lr": 0.01, "lr_schedule": "constant"})]
    for m in manifests:
        (tmp_path / f"{m['name']}.json").write_text(json.dumps(m))
    assert book.results_markdown(tmp_path).splitlines() == [
        "| experiment | objective | epochs | wall time | train | test |", "|---|---|--:|--:|--:|--:|",
        "| `vae-9` | my-loss | 3 | 1.5 min | 0.5000 | — |",
        "| `vae-10` | −ELBO | 5 of 10 | 1.5 min | 95.12 | 97.50 |",
        "",
        "- `vae-9`: model vae-9. Batch 64, lr 0.01; trained on cpu.",
        "- `vae-10`: model vae-10. Batch 100, lr 0.001, burda schedule; trained on cpu; test NLL (k = 5000, "
        "all 10,000 test images) **88.12**; active units **12.00**."]


def test_without_manifests_the_results_page_says_how_to_make_them(tmp_path):
    assert book.results_markdown(tmp_path) == (
        "*No full-budget checkpoint is committed yet: `make reproduce` writes them into `checkpoints/`. Until then "
        "the chapters show their models at the budget they ran with.*")


def test_the_committed_manifests_are_read_from_the_checkpoints_folder():
    names = [m["name"] for m in book.manifests()]
    assert len(names) == len(list(book.COMMITTED_DIR.glob("*.json"))) > 0
    assert all((book.COMMITTED_DIR / f"{name}.json").is_file() for name in names)
