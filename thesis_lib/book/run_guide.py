"""The "Run it yourself" page: how long each page took to execute when the book was built, on which
machine, and what each budget trains for every registered experiment.

The times come from myst-nb's execution cache (jupyter-cache, ``_build/.jupyter_cache``), which
records the seconds each notebook took the last time the build executed it.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from ..experiments.experiment import registered
from ..infra.paths import COMMITTED_DIR, REPO_ROOT
from .pages import manifests, pages

#: where ``jupyter-book build`` keeps executed notebooks (``execute_notebooks: cache``)
EXECUTION_CACHE = REPO_ROOT / "_build" / ".jupyter_cache"


def page_run_times(cache: Path = EXECUTION_CACHE, root: Path = REPO_ROOT) -> dict[str, float]:
    """Seconds each page of ``root`` took to execute in its latest cached run, by docname
    (``chapters/1_1_neural_networks``); empty when the book has not been built here."""
    if not (cache / "global.db").exists():
        return {}
    from jupyter_cache import get_cache

    latest = {}
    for record in get_cache(cache).list_cache_records():
        try:
            docname = Path(record.uri).resolve().relative_to(root.resolve()).with_suffix("").as_posix()
        except ValueError:
            continue  # a notebook of another checkout
        seconds = record.data.get("execution_seconds")
        if seconds is not None and (docname not in latest or record.created > latest[docname][0]):
            latest[docname] = (record.created, float(seconds))
    return {docname: seconds for docname, (_, seconds) in latest.items()}


def machine() -> str:
    """The machine this runs on, in words: processor, cores, torch's threads."""
    threads = torch.get_num_threads()
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch with {threads} "
            f"thread{'s' if threads != 1 else ''}")


def run_times_markdown(times: dict[str, float], root: Path = REPO_ROOT) -> str:
    """A table of the chapters' execution times in book order, with their sum."""
    rows = [(page.title, times[page.docname]) for page in pages(root) if page.docname in times]
    if not rows:
        return "*Not measured here yet: `make book` executes every chapter and records its time.*"
    lines = ["| page | seconds |", "|---|--:|"] + [f"| {title} | {seconds:.0f} |" for title, seconds in rows]
    lines.append(f"| all pages | {sum(s for _, s in rows):.0f} |")
    return "\n".join(lines)


def budgets_markdown(directory: Path = COMMITTED_DIR) -> str:
    """Every registered experiment: its epochs at the quick and the full budget and the committed
    checkpoint's epochs ("N of M" for a run in progress), or "—" where none is committed."""
    committed = {m["name"]: m for m in manifests(directory)}
    lines = ["| experiment | quick epochs | full epochs | committed |", "|---|--:|--:|--:|"]
    for name, experiment in sorted(registered().items()):
        m = committed.get(name)
        done = "—" if m is None else f"{m['epochs']} of {m['of_epochs']}" if "of_epochs" in m else str(m["epochs"])
        lines.append(f"| `{name}` | {experiment.config('quick').epochs} | {experiment.config('full').epochs} | {done} |")
    return "\n".join(lines)
