"""Citations that read the same in the built book and in JupyterLab.

A chapter cites with a markdown link ``[\\[Drori and Teboulle, 2014\\]](https://doi.org/…)``: the label
sphinxcontrib-bibtex's author–year style gives the entry of ``references.bib``, in brackets, linked to
the work's DOI, arXiv or other page. JupyterLab shows it as such a link (its MyST renderer has no
bibliography); the book's build (``_ext/book_fixes.py``) points it at the entry of the bibliography page
instead, as a ``{cite}`` role would.
"""

from __future__ import annotations

import functools
import re

from pybtex.database import Entry, parse_file
from pybtex.richtext import Text

from ..infra.paths import REPO_ROOT

BIBFILE = REPO_ROOT / "references.bib"
#: a citation in a chapter's markdown: group 1 the label, group 2 the address
LINK = re.compile(r"\[\\\[([^\]\\]+)\\\]\]\(([^()\s]+)\)")


@functools.cache
def entries() -> dict[str, Entry]:
    """The entries of ``references.bib`` by key."""
    return dict(parse_file(str(BIBFILE)).entries)


def _last_name(person) -> str:
    return Text.from_latex(" ".join(person.last_names)).render_as("text")


def label(key: str) -> str:
    """The author–year label of ``key``: "Kawaguchi, 2016", "Drori and Teboulle, 2014", "Bottou et al., 2018"."""
    entry = entries()[key]
    names = [_last_name(p) for p in entry.persons["author"]]
    who = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
    return f"{who}, {entry.fields['year']}"


def title(key: str) -> str:
    """The work's title as text (LaTeX braces and accents resolved)."""
    return Text.from_latex(entries()[key].fields["title"]).render_as("text")


def address(key: str) -> str:
    """Where the work is: its DOI's resolver address, else its ``url`` field (parentheses %-encoded, so
    that the address ends a markdown link where it ends)."""
    fields = entries()[key].fields
    if "doi" not in fields and "url" not in fields:
        raise ValueError(f"key={key!r} has neither a doi nor a url in {BIBFILE.name}; a citation needs one")
    where = f"https://doi.org/{fields['doi']}" if "doi" in fields else fields["url"]
    return where.replace("(", "%28").replace(")", "%29")


def markdown(key: str) -> str:
    """The citation of ``key`` as a chapter writes it."""
    return f"[\\[{label(key)}\\]]({address(key)})"


@functools.cache
def _keys_by_link() -> dict[tuple[str, str], str]:
    return {(label(key), address(key)): key for key, entry in entries().items()
            if "doi" in entry.fields or "url" in entry.fields}


def cited_key(text: str, uri: str) -> str | None:
    """The key a citation link with this label and address cites, or None if it cites none."""
    return _keys_by_link().get((text, uri))
