"""thesis_lib.book.lab_captions: under a Jupyter server a run cell's figure caption is printed below it,
read from the notebook file by the cell id the request carries; nowhere else."""

import json

from IPython.core.events import EventManager, available_events
from IPython.display import Markdown

from thesis_lib.book import lab_captions


class Kernel:
    def __init__(self):
        self.cell_id = None

    def get_parent(self):
        return {"metadata": {"cellId": self.cell_id}} if self.cell_id else {}


class Shell:
    def __init__(self):
        self.kernel, self.events = Kernel(), EventManager(self, available_events)


def _notebook(tmp_path):
    cells = [{"cell_type": "code", "id": "fig", "metadata": {"mystnb": {"figure": {"caption": "Two $x$ and a y."}}},
              "source": "plot()", "outputs": [], "execution_count": None},
             {"cell_type": "code", "id": "plain", "metadata": {}, "source": "1", "outputs": [], "execution_count": None}]
    (tmp_path / "x.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))


def test_a_caption_reads_as_a_figure_caption():
    assert lab_captions.caption_text("A plot.") == "**Figure.** *A plot.*"


def test_under_a_jupyter_server_each_run_cell_shows_its_caption_once(tmp_path, monkeypatch):
    _notebook(tmp_path)
    assert lab_captions.captions(tmp_path / "x.ipynb") == {"fig": "Two $x$ and a y."}
    shell, shown = Shell(), []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lab_captions, "get_ipython", lambda: shell)
    monkeypatch.setattr(lab_captions, "display", shown.append)
    monkeypatch.setenv("JPY_SESSION_NAME", "chapters/x.ipynb")
    assert lab_captions.register() and lab_captions.register()  # the chapter's first cell, run twice
    for cell_id in ("fig", "plain", None):
        shell.kernel.cell_id = cell_id
        shell.events.trigger("post_run_cell", None)
    assert [(type(d), d.data) for d in shown] == [(Markdown, "**Figure.** *Two $x$ and a y.*")]


def test_elsewhere_nothing_is_registered(monkeypatch):
    shell = Shell()
    monkeypatch.setattr(lab_captions, "get_ipython", lambda: shell)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert not lab_captions.register()
    assert not shell.events.callbacks["post_run_cell"]
    monkeypatch.setattr(lab_captions, "get_ipython", lambda: None)
    monkeypatch.setenv("JPY_SESSION_NAME", "x.ipynb")
    assert not lab_captions.register()
