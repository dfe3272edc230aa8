"""Figure captions in JupyterLab.

A chapter's figure caption lives in its cell's metadata (``mystnb.figure.caption``), where myst-nb
reads it for the book; JupyterLab does not show cell metadata. Under a Jupyter server (which names the
kernel's notebook in ``JPY_SESSION_NAME``), :func:`register` makes the kernel print the caption of
each cell it runs below the cell's output: JupyterLab sends the cell's id with each execution
request, and the caption is read from the notebook file. Elsewhere (the book's build, nbval) it does
nothing, so the book shows each caption once, as the figure's.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from IPython import get_ipython
from IPython.display import Markdown, display

from .prose import caption


def captions(notebook: Path) -> dict[str, str]:
    """``cell id -> figure caption`` of the notebook file (read again only once the file has changed)."""
    return _captions(Path(notebook), Path(notebook).stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _captions(notebook: Path, modified: int) -> dict[str, str]:
    cells = json.loads(notebook.read_text())["cells"]
    return {cell["id"]: caption(cell) for cell in cells if "id" in cell and caption(cell)}


def caption_text(caption: str) -> str:
    """How JupyterLab shows a caption: in italics after the word "Figure", as a caption reads."""
    return f"**Figure.** *{caption}*"


def register() -> bool:
    """Under a Jupyter server, print each run cell's figure caption after it; whether it registered."""
    shell, session = get_ipython(), os.environ.get("JPY_SESSION_NAME")
    if shell is None or not session or not hasattr(shell, "kernel"):
        return False
    notebook = Path.cwd() / Path(session).name

    def show_caption(result) -> None:
        cell_id = shell.kernel.get_parent().get("metadata", {}).get("cellId")
        caption = captions(notebook).get(cell_id) if cell_id and notebook.exists() else None
        if caption:
            display(Markdown(caption_text(caption)))

    for callback in list(shell.events.callbacks["post_run_cell"]):
        if getattr(callback, "__name__", "") == show_caption.__name__ and callback.__module__ == __name__:
            shell.events.unregister("post_run_cell", callback)
    shell.events.register("post_run_cell", show_caption)
    return True
