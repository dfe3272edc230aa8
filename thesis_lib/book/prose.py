"""Every number in the prose is computed: the typed results of a page's markdown and figure captions.

A number that comes from data or an experiment reaches a chapter's prose through myst-nb's ``glue``
(the ``{glue:text}`` role) or a cell's output. :func:`typed_numbers` finds those typed by hand
instead — decimals, percentages, powers of ten, counts of epochs and times, and amounts in words
("about a third", "two hours") — in the markdown cells and in the captions the code cells carry;
``tests/test_prose.py`` fails on any.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import tokenize

from .pages import GLUE_ROLE, GLUED_ROLE, Page

#: published figures the prose cites with their source (Burda et al. 2015, pythae, nbip): typed, never computed here
CITED_FIGURES = {
    86.76, 86.47, 85.54, 86.35, 84.78,  # Burda et al. 2015, Table 1: VAE / IWAE test NLL, 1 stochastic layer
    88.71,                              # Burda et al. 2015, appendix: VAE, statically binarised MNIST
    89.78, 89.9,                        # pythae's reproduction and the paper it reproduces (VAE 784-400-40)
    85.18, 84.90,                       # nbip/IWAE's README: IWAE (k = 5) and the same with DReG, k = 5000
}

#: what follows an amount in per cent
_PERCENT = re.compile(r"\s?(?:\\?%|per ?cent)")
#: what a typed number in prose may be read as: a decimal, or an amount in per cent
_NUMBER = re.compile(rf"(?<![\w.])(\d[\d,]*\.\d+|\d[\d,]*(?:\.\d+)?(?={_PERCENT.pattern}))(?![\w.]*\d)")
#: a power of ten typed as TeX or as a float literal (10^{-16}, 3\cdot10^{-4}, 1e-3): mantissa, exponent
_POWER = re.compile(r"(?<![\w.{])(?:(\d+(?:\.\d+)?)\s*(?:\\times|\\cdot|×)\s*)?10\^\{?([-−]?\d+)\}?(?![\d/])"
                    r"|(?<![\w.])(\d+(?:\.\d+)?)e([-+]?\d+)\b")
#: a count of what a run took: epochs, steps and times ("200 epochs", "40 min")
_COUNT = re.compile(r"(?<![\w.,])(\d[\d,]*)\s?(?:epochs?|steps?|hours?|h\b|minutes?|min\b|seconds?|s\b)")
_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
          "a hundred|a thousand|a half|half|a third|two thirds|a quarter|three quarters|a fifth|a tenth")
#: an amount written in words: a hedged number ("about a third", "nearly half") or a duration ("two hours")
_IN_WORDS = re.compile(rf"\b(?:(?:about|roughly|nearly|almost|around|approximately|some|over|under|less than|"
                       rf"more than)\s+(?:{_WORDS})\b"
                       rf"|(?:about|roughly|nearly|almost|around|approximately)\s+\$?\d[\d,]*\b(?![.,]\d|\^)"
                       rf"|(?:one|{_WORDS})\s+(?:hours?|minutes?|seconds?|days?)\b)", re.I)
#: parts of prose whose digits are not results: glued values, code, labels, statement and equation
#: numbers, section headings, citations and versions
_NOT_RESULTS = [re.compile(p, re.M) for p in (
    GLUED_ROLE.pattern, GLUE_ROLE.pattern, r"`[^`]*`", r"\((?:erratum|thesis)-[\w-]+\)=", r"^#+ [\d.]+", r"\\tag\{[^}]*\}",
    r"\([1-9]\.\d{1,2}\)", r"\d+\.\d+\.\d+", r"https?://\S+", r"\b(?:Python|PyTorch|torch)\s+\d+(?:\.\d+)+",
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
    """The keys of the ``{eval}`glued(...)``` and ``{glue}`` roles of a markdown text that paste from the
    same page."""
    return ([m.group(1).split(":", 1)[0] for m in GLUED_ROLE.finditer(markdown)]
            + [m.group(2).split(":", 1)[0] for m in GLUE_ROLE.finditer(markdown) if "::" not in m.group(2)])


def typed_numbers(page: Page) -> list[TypedNumber]:
    """Decimals and percentages typed into the page's prose that are neither glued from a cell, nor a
    setting typed in one of its code cells, nor a published figure of :data:`CITED_FIGURES`.

    Such a number is a result nobody's code computed on the page: it must reach the prose through
    myst-nb's ``glue`` instead.
    """
    settings, out = _code_literals(page), []
    for index, cell in enumerate(page.cells):
        text = "".join(cell["source"]) if cell["cell_type"] == "markdown" else caption(cell)
        for pattern in _NOT_RESULTS:
            text = pattern.sub(" ", text)
        found = []
        for match in _NUMBER.finditer(text):
            value = float(match.group(1).replace(",", ""))
            percent = _PERCENT.match(text, match.end()) is not None
            if not (value in CITED_FIGURES or (match.group(1).count(".") and value in settings)
                    or (percent and value / 100 in settings)):
                found.append(match)
        for match in _COUNT.finditer(text):
            if float(match.group(1).replace(",", "")) not in settings:
                found.append(match)
        for match in _POWER.finditer(text):
            mantissa, exponent = (match.group(1) or match.group(3) or "1"), (match.group(2) or match.group(4))
            value = float(mantissa) * 10.0 ** int(exponent.replace("−", "-"))
            if not any(math.isclose(value, setting, rel_tol=1e-9) for setting in settings):
                found.append(match)
        for match in _IN_WORDS.finditer(text):
            digits = re.search(r"\d[\d,]*", match.group(0))
            if not (digits and float(digits.group(0).replace(",", "")) in settings):
                found.append(match)
        end = -1
        for match in sorted(found, key=lambda m: m.start()):
            if match.start() < end:
                continue  # one typed number read two ways ("about 81 %")
            end = match.end()
            context = text[max(0, match.start() - 60):match.end() + 20].replace("\n", " ")
            out.append(TypedNumber(page.docname, index, match.group(0).strip(), " ".join(context.split())))
    return out


def caption(cell: dict) -> str:
    """The caption a code cell gives its figure (myst-nb's ``mystnb.figure.caption``), or ``""``."""
    return str(cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption", ""))
