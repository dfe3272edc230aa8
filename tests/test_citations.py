"""thesis_lib.book.citations: labels and addresses from references.bib, and the chapters' citations."""

import re

import pytest

from thesis_lib.book import citations, pages


@pytest.mark.parametrize("key, label", [("kawaguchi2016deep", "Kawaguchi, 2016"),
                                        ("drori2014performance", "Drori and Teboulle, 2014"),
                                        ("bottou2018optimization", "Bottou et al., 2018"),
                                        ("sonderby2016ladder", "Sønderby et al., 2016"), ("nbip2021iwae", "nbip, 2021")])
def test_labels_are_author_year_as_sphinxcontrib_bibtex_writes_them(key, label):
    assert citations.label(key) == label


def test_titles_are_text():
    assert citations.title("kingma2013auto") == "Auto-Encoding Variational Bayes"


def test_an_address_is_the_doi_resolver_else_the_url_and_ends_where_a_markdown_link_ends():
    assert citations.address("drori2014performance") == "https://doi.org/10.1007/s10107-013-0653-0"
    assert citations.address("baldi1989neural") == "https://doi.org/10.1016/0893-6080%2889%2990014-2"
    assert citations.address("kingma2013auto") == "https://arxiv.org/abs/1312.6114"
    with pytest.raises(ValueError, match="^key='foster2022generative' has neither a doi nor a url"):
        citations.address("foster2022generative")


def test_each_citation_reads_back_as_the_key_it_cites_and_nothing_else_does():
    for key, entry in citations.entries().items():
        if {"doi", "url"} & set(entry.fields):
            label, uri = citations.LINK.fullmatch(citations.markdown(key)).groups()
            assert citations.cited_key(label, uri) == key
    assert citations.cited_key("Drori and Teboulle, 2014", "https://example.org") is None
    assert citations.cited_key("Drori, 2014", citations.address("drori2014performance")) is None


def test_the_chapters_cite_with_links_that_lab_and_the_book_both_read():
    """No {cite} role (JupyterLab shows it as a raw key), and every bracketed link is an entry's citation."""
    cited = set()
    for page in pages.pages():
        for cell in page.cells:
            if cell["cell_type"] != "markdown":
                continue
            text = "".join(cell["source"])
            assert not re.search(r"\{cite(?::\w+)?\}`", text), f"{page.docname}: a {{cite}} role"
            for label, uri in citations.LINK.findall(text):
                key = citations.cited_key(label, uri)
                assert key is not None, f"{page.docname}: [{label}]({uri}) cites no entry of references.bib"
                cited.add(key)
    assert {"burda2015importance", "kingma2013auto", "drori2014performance"} <= cited
