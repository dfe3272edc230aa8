"""Every number in the prose is computed: the typed decimals and percentages of a page's markdown.

A number that comes from data or an experiment reaches a chapter's prose through myst-nb's ``glue``
(the ``{glue:text}`` role) or a cell's output. :func:`typed_numbers` finds those typed by hand
instead; ``tests/test_prose.py`` fails on any.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize

from .pages import GLUE_ROLE, Page

#: published figures the prose cites with their source (Burda et al. 2015, pythae, nbip): typed, never computed here
CITED_FIGURES = {
    86.76, 86.47, 85.54, 86.35, 84.78,  # Burda et al. 2015, Table 1: VAE / IWAE test NLL, 1 stochastic layer
    88.71,                              # Burda et al. 2015, appendix: VAE, statically binarised MNIST
    89.78, 89.9,                        # pythae's reproduction and the paper it reproduces (VAE 784-400-40)
    85.18, 84.90,                       # nbip/IWAE's README: IWAE (k = 5) and the same with DReG, k = 5000
}

#: what a typed number in prose may be read as: a decimal, or an amount in per cent
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*\.\d+|\d[\d,]*(?:\.\d+)?(?=\s?(?:\\?%|per ?cent)))(?![\w.]*\d)")
#: parts of prose whose digits are not results: glued values, code, labels, statement and equation
#: numbers, section headings, citations and versions
_NOT_RESULTS = [re.compile(p, re.M) for p in (
    GLUE_ROLE.pattern, r"`[^`]*`", r"\((?:erratum|thesis)-[\w-]+\)=", r"^#+ [\d.]+", r"\\tag\{[^}]*\}",
    r"\([1-9]\.\d{1,2}\)", r"\d+\.\d+\.\d+", r"https?://\S+",
    r"(?:Definitions?|Examples?|Remarks?|Lemmas?|Theorems?|Propositions?|Corollary|Corollaries|Figures?|Fig\."
    r"|Sections?|Chapters?|chapters?|sections?|Props?\.|Defs?\.|Thms?\.|Algorithm|Tables?|§)\s*~?\d+(?:\.\d+)*"
    r"(?:\s*(?:–|-|to|and|,)\s*\d+(?:\.\d+)*)*",
)]


@dataclasses.dataclass(frozen=True)
class TypedNumber:
    """A number written into a markdown cell by hand."""

    page: str
    cell: int
    text: str
    context: str


def _code_literals(page: Page) -> set[float]:
    """Every numeric literal typed in the page's code cells: the experiment's own settings."""
    found = set()
    for cell in page.cells:
        if cell["cell_type"] != "code":
            continue
        try:
            for tok in tokenize.generate_tokens(io.StringIO("".join(cell["source"])).readline):
                if tok.type == tokenize.NUMBER and not tok.string.endswith(("j", "J")):
                    found.add(abs(float(tok.string.replace("_", ""))))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue
    return found


def glue_keys(markdown: str) -> list[str]:
    """The keys of the ``{glue}`` roles of a markdown text that paste from the same page."""
    return [m.group(2).split(":", 1)[0] for m in GLUE_ROLE.finditer(markdown) if "::" not in m.group(2)]


def typed_numbers(page: Page) -> list[TypedNumber]:
    """Decimals and percentages typed into the page's prose that are neither glued from a cell, nor a
    setting typed in one of its code cells, nor a published figure of :data:`CITED_FIGURES`.

    Such a number is a result nobody's code computed on the page: it must reach the prose through
    myst-nb's ``glue`` instead.
    """
    settings, out = _code_literals(page), []
    for index, cell in enumerate(page.cells):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        for pattern in _NOT_RESULTS:
            text = pattern.sub(" ", text)
        for match in _NUMBER.finditer(text):
            value = float(match.group(1).replace(",", ""))
            if value in CITED_FIGURES or (match.group(1).count(".") and value in settings):
                continue
            context = text[max(0, match.start() - 60):match.end() + 20].replace("\n", " ")
            out.append(TypedNumber(page.docname, index, match.group(1), " ".join(context.split())))
    return out
