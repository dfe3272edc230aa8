"""The book's local Sphinx extension (_ext/book_fixes.py): its page fixes, and in small Sphinx builds with
myst-nb and sphinxcontrib-bibtex its {eval} role (against myst-nb's {glue:text}) and citation links."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

import book_fixes  # noqa: E402


class Script:
    def __init__(self, filename, **attributes):
        self.filename, self.attributes = filename, attributes


def test_each_script_is_kept_once_in_its_first_place_and_the_colour_mode_is_set():
    thebe = Script(None, body="const THEBE_JS_URL = 1")
    scripts = [Script("a.js"), thebe, Script("b.js", defer="defer"), Script(None, body="const THEBE_JS_URL = 1"),
               Script("a.js"), Script("b.js")]
    context = {"script_files": scripts, "default_mode": ""}
    book_fixes.fix_page_context(None, "page", "page.html", context, None)
    assert [(s.filename, s.attributes) for s in context["script_files"]] == [
        ("a.js", {}), (None, {"body": "const THEBE_JS_URL = 1"}), ("b.js", {"defer": "defer"}), ("b.js", {})]
    assert context["script_files"] is scripts and context["default_mode"] == "light"


def test_a_colour_mode_that_is_set_is_kept():
    context = {"script_files": [], "default_mode": "dark"}
    book_fixes.fix_page_context(None, "page", "page.html", context, None)
    assert context["default_mode"] == "dark"


def _notebook(markdown: str) -> dict:
    glue_output = {"output_type": "display_data", "data": {"application/papermill.record/text/plain": "0.59123"},
                   "metadata": {"scrapbook": {"name": "share", "mime_prefix": "application/papermill.record/"}}}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "P",
                                                                             "language": "python"}},
            "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": 1, "source": "glue()",
                       "outputs": [glue_output]},
                      {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": markdown}]}


def _build(tmp_path: Path, markdown: str) -> tuple[str, str]:
    """index.ipynb (a glued number, then ``markdown``) and bibliography.md (every entry), built as the book."""
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(f"import sys\nsys.path.insert(0, {str(ROOT / '_ext')!r})\n"
                                 "extensions = ['myst_nb', 'sphinxcontrib.bibtex', 'book_fixes']\n"
                                 "nb_execution_mode = 'off'\nbibtex_reference_style = 'author_year'\n"
                                 f"bibtex_bibfiles = [{str(ROOT / 'references.bib')!r}]\n"
                                 "bibtex_cite_id = 'cite-{key}'\n")
    (src / "index.ipynb").write_text(json.dumps(_notebook(markdown)))
    (src / "bibliography.md").write_text("# Bibliography\n\n```{bibliography}\n:all:\n```\n")
    warnings = tmp_path / "warnings.txt"
    with open(warnings, "w") as stream:
        Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "html", status=None,
               warning=stream, freshenv=True).build()
    # a second Sphinx app in one process re-registers Sphinx's own nodes; pages here are in no toctree
    noise = ("is already registered", "isn't included in any toctree")
    messages = [line for line in warnings.read_text().splitlines() if not any(n in line for n in noise)]
    return (tmp_path / "out" / "index.html").read_text(), "\n".join(messages)


def test_the_book_pastes_glued_as_glue_text_does(tmp_path):
    page, warnings = _build(tmp_path, 'Share {eval}`glued("share:.0%")`; plain {eval}`glued("share")`; '
                                      'as glue:text {glue:text}`share:.0%`.')
    assert page.count('<span class="pasted-text">59%</span>') == 2
    assert '<span class="pasted-text">0.59123</span>' in page and "glued(" not in page
    assert "WARNING" not in warnings and "ERROR" not in warnings, warnings


def test_the_book_refuses_an_eval_that_is_not_a_glued_number(tmp_path):
    page, warnings = _build(tmp_path, "Sum {eval}`1 + 1`.")
    assert 'is not allowed in this book; write {eval}`glued("<key>")`' in warnings


def test_a_citation_link_leads_to_its_entry_on_the_bibliography_page_and_other_links_stay(tmp_path):
    from thesis_lib.book import citations

    page, warnings = _build(tmp_path, f"As shown by {citations.markdown('drori2014performance')}; not a citation: "
                                      "[\\[Drori and Teboulle, 2014\\]](https://example.org) and [text](https://doi.org/x).")
    assert ('class="citation-link reference internal" href="bibliography.html#cite-drori2014performance" '
            'title="Drori and Teboulle, 2014: Performance of first-order methods for smooth convex minimization: '
            'a novel approach"') in page
    assert page.count("bibliography.html#") == 1 and 'href="https://example.org"' in page
    bibliography = (tmp_path / "out" / "bibliography.html").read_text()
    assert 'id="cite-drori2014performance"' in bibliography
    assert "WARNING" not in warnings, warnings


def test_a_link_to_a_label_of_another_page_leads_to_it_and_a_missing_label_is_still_reported(tmp_path):
    """[text](other.ipynb#label) reaches an explicit label ((label)= or a directive's :label:), not only a
    heading; [text](#label) reaches it from anywhere; an unknown fragment stays a warning."""
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(f"import sys\nsys.path.insert(0, {str(ROOT / '_ext')!r})\n"
                                 "extensions = ['myst_nb', 'sphinx_proof', 'book_fixes']\nnb_execution_mode = 'off'\n"
                                 "myst_enable_extensions = ['colon_fence']\n")
    other = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {},
         "source": "# Other\n\n(erratum-x)=\n:::{note}\nA box.\n:::\n\n```{prf:definition} A thing\n"
                   ":label: thesis-definition-9\n\nIt is.\n```\n"}]}
    (src / "other.ipynb").write_text(json.dumps(other))
    (src / "index.md").write_text("# Index\n\n[the box](other.ipynb#erratum-x), [the definition](other.ipynb#"
                                  "thesis-definition-9), [again](#erratum-x), [missing](other.ipynb#nowhere)\n\n"
                                  "```{toctree}\nother\n```\n")
    warnings = tmp_path / "warnings.txt"
    with open(warnings, "w") as stream:
        Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "html", status=None,
               warning=stream, freshenv=True).build()
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.count('href="other.html#erratum-x"') == 2 and 'href="other.html#thesis-definition-9"' in page
    assert 'id="erratum-x"' in (tmp_path / "out" / "other.html").read_text()
    reported = [line for line in warnings.read_text().splitlines() if "WARNING" in line
                and "is already registered" not in line]
    assert len(reported) == 1 and "'nowhere'" in reported[0], reported
