"""Numbers in prose that read the same in the built book and in JupyterLab.

A chapter computes a number in a code cell and ``glue``s it; its prose shows it with the inline role
``{eval}`glued("<key>[:<format>]")```:

* the book's build (``_ext/book_fixes.py``) pastes it as myst-nb's ``{glue:text}`<key>[:<format>]```
  does, from the glued output;
* JupyterLab (jupyterlab-myst) evaluates ``glued("<key>[:<format>]")`` in the chapter's kernel when
  the markdown cell runs. It gets a small text widget that shows the number once the cell that
  glues it has run, also when that cell comes later in the chapter, as it often does (the prose
  states the finding, the cell below checks it).

Both format the glued value's ``text/plain`` with myst-nb's own formatter, so they print the same.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets
from IPython.core.formatters import format_display_data
from myst_nb import glue as _myst_nb_glue
from myst_nb.core.variables import format_plain_text

#: shown in JupyterLab where the cell that glues the number has not run yet
PENDING = "… (run the cell that computes it)"

_values: dict[str, Any] = {}
_views: dict[str, list[tuple[ipywidgets.HTML, str]]] = {}


def _split(spec: str) -> tuple[str, str]:
    if not isinstance(spec, str) or not spec or "::" in spec:
        raise ValueError(f"spec={spec!r} is not allowed; it must be '<key>' or '<key>:<format>' of a number "
                         "glued on this page")
    key, _, fmt = spec.partition(":")
    return key, fmt


def text(key: str, fmt: str = "") -> str:
    """The glued value of ``key`` as the book prints it: the ``text/plain`` that myst-nb's ``glue`` stores,
    through myst-nb's formatter with ``fmt``."""
    return format_plain_text(format_display_data(_values[key])[0]["text/plain"], fmt)


def glue(key: str, value: Any, display: bool = False) -> None:
    """myst-nb's ``glue`` (the book pastes from it), and the number for every ``glued`` view of ``key``."""
    _myst_nb_glue(key, value, display=display)
    _values[key] = value
    for view, fmt in _views.get(key, []):
        view.value = html.escape(text(key, fmt))


def glued(spec: str) -> ipywidgets.HTML:
    """The view of ``<key>[:<format>]`` that a markdown cell's ``{eval}`` role shows in JupyterLab."""
    key, fmt = _split(spec)
    view = ipywidgets.HTML(html.escape(text(key, fmt)) if key in _values else PENDING)
    _views.setdefault(key, []).append((view, fmt))
    return view
