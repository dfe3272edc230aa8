"""JupyterLab as readers use it (``make test-lab``): start Lab on a free port over a copy of the
chapters, open chapters in headless Chromium, run all cells, and check that no cell failed, a widget
view rendered and responds to its slider, the thesis statements are rendered by jupyterlab-myst rather
than shown as raw MyST, and the prose's glued numbers and citations read as numbers and citations.
The copy keeps Lab's autosave away from the repository."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHAPTER = "1_1_neural_networks.ipynb"
#: a short chapter whose prose glues numbers (one before the cell that computes it) and cites a paper
PROSE_CHAPTER = "3_1_variational_autoencoders.ipynb"
#: a notebook with one in-page explorer, written next to the chapters' copy
EXPLORER_CHECK = "explorer_check.ipynb"
TOKEN = "thesis-lab-test"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    chapters = tmp_path_factory.mktemp("lab") / "chapters"
    shutil.copytree(ROOT / "chapters", chapters)
    (chapters / EXPLORER_CHECK).write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                         "language": "python"}},
        "cells": [{"cell_type": "code", "id": "explorer", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": "import torch\nfrom thesis_lib.book import static_explorers\n"
                             "from thesis_lib.networks import DeepNetwork\ntorch.manual_seed(0)\n"
                             "decoder = DeepNetwork((2, 16, 784), 'relu', output_activation='identity')\n"
                             "static_explorers.grid_explorer('lab-note', decoder, 'test', [(-1.0, 1.0)] * 2)"},
                  {"cell_type": "code", "id": "in-page", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": "import os\nos.environ.pop('JPY_SESSION_NAME')  # the book's copy, shown here anyway\n"
                             "static_explorers.grid_explorer('lab-explorer', decoder, 'test', [(-1.0, 1.0)] * 2)"},
                  {"cell_type": "markdown", "id": "after", "metadata": {}, "source": "The cell after."}]}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={chapters}"]
    if os.getuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail(f"JupyterLab did not start: {server.stderr.read()[-2000:]}")
    yield url
    server.terminate()
    server.wait(timeout=30)


def run_all(page):
    """Run All Cells once the kernel is idle; fail on a cell that raised."""
    page.wait_for_selector("text=| Idle", timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
        .every(e => /\\[\\d+\\]/.test(e.textContent))""", timeout=300_000)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
    assert not tracebacks, f"cells failed in Lab: {tracebacks[:2]}"


@contextlib.contextmanager
def notebook_run_in_lab(lab, notebook):
    """``notebook`` open in a fresh Lab workspace in headless Chromium, all its cells run: the page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{lab}/lab/tree/{notebook}?reset&token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=60_000)
        run_all(page)
        yield page
        browser.close()


def test_a_chapter_runs_in_lab_with_rendered_statements_and_live_widgets(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{lab}/lab/tree/{CHAPTER}?reset&token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        statement = page.locator(".jp-MarkdownCell aside.myst-proof .myst-proof-header").first
        statement.wait_for(timeout=60_000)
        assert "Definition 1.1.1" in statement.inner_text()
        rendered = page.locator(".jp-MarkdownCell .jp-RenderedHTMLCommon, .jp-MarkdownCell .myst")
        raw = [t for t in rendered.all_inner_texts() if "{prf:" in t or ":label: thesis-" in t or ":::{" in t]
        assert not raw, f"raw MyST in Lab: {raw[:2]}"
        run_all(page)
        slider = page.locator(".widget-slider").first
        slider.wait_for(timeout=60_000)
        view = slider.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')]").first
        before = view.inner_html()
        handle = slider.locator(".noUi-handle, [role='slider']").first
        handle.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_timeout(2000)
        assert view.inner_html() != before, "moving the slider did not change the widget's output"
        browser.close()


def test_glued_numbers_citations_and_captions_read_in_lab(lab):
    """Every {eval}`glued(...)` of the chapter shows its number after Run All, also the one in the opening
    cell (computed further down); a citation shows its author-year label, linked to the paper; each
    figure's caption (cell metadata, which Lab does not show) is printed under the figure."""
    import re

    from thesis_lib.book import citations
    from thesis_lib.book.prose import caption

    source = json.loads((ROOT / "chapters" / PROSE_CHAPTER).read_text())
    prose = "".join("".join(c["source"]) for c in source["cells"] if c["cell_type"] == "markdown")
    with notebook_run_in_lab(lab, PROSE_CHAPTER) as page:
        numbers = page.locator(".jp-MarkdownCell .widget-html-content")
        page.wait_for_function("""n => [...document.querySelectorAll('.jp-MarkdownCell .widget-html-content')]
            .filter(e => /^-?\\d[\\d,]*(\\.\\d+)?%?$/.test(e.textContent.trim())).length === n""",
                               arg=prose.count("{eval}`glued("), timeout=60_000)
        shown = numbers.evaluate_all("els => els.map(e => e.textContent.trim())")  # cells off screen too
        assert all(re.fullmatch(r"-?\d[\d,]*(\.\d+)?%?", t.strip()) for t in shown), shown
        rendered = " ".join(page.locator(".jp-MarkdownCell .myst").all_text_contents())
        assert "Kullback" in rendered
        assert "glued(" not in rendered and "{cite" not in rendered
        link = page.locator(f".jp-MarkdownCell a[href='{citations.address('kingma2013auto')}']").first
        assert link.text_content().strip() == f"[{citations.label('kingma2013auto')}]"
        captions = [caption(c) for c in source["cells"] if caption(c)]
        outputs = " ".join(page.locator(".jp-OutputArea-output").all_text_contents())
        for caption in captions:
            plain = re.split(r"[$`*]", caption)[0].strip()  # the words before any maths or code
            assert f"Figure. {plain}" in outputs, f"the caption '{plain}…' is missing in Lab"


def test_lab_shows_one_explorer_and_an_in_page_sliders_takes_the_arrow_keys(lab):
    """In Lab the book's in-page copy gives way to a note (the widget is the explorer there). Shown anyway,
    its focused slider moves with ArrowRight and redraws, and the notebook keeps its active cell."""
    with notebook_run_in_lab(lab, EXPLORER_CHECK) as page:
        assert page.locator("#lab-note").count() == 0
        note = page.locator(".jp-OutputArea-output", has_text="The explorer is the widget of the next cell")
        assert note.count() == 1
        slider = page.locator("#lab-explorer input[type=range]").first
        slider.wait_for(timeout=60_000)
        slider.focus()
        active = page.evaluate("() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
                               ".findIndex(c => c.classList.contains('jp-mod-active'))")
        before = page.evaluate("() => window.thesisExplorers['lab-explorer'].t[0]")
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        after = page.evaluate("() => window.thesisExplorers['lab-explorer'].t[0]")
        assert after > before, f"ArrowRight left the slider at {after} (was {before})"
        assert page.evaluate("() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
                             ".findIndex(c => c.classList.contains('jp-mod-active'))") == active
