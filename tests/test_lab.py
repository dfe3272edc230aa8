"""JupyterLab as readers use it (``make test-lab``): start Lab on a free port over a copy of the
chapters, open a chapter with widgets in headless Chromium, run all cells, and check that no cell
failed, a widget view rendered and responds to its slider, and the thesis statements are rendered
by jupyterlab-myst rather than shown as raw MyST. The copy keeps Lab's autosave away from the
repository."""

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
TOKEN = "thesis-lab-test"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    chapters = tmp_path_factory.mktemp("lab") / "chapters"
    shutil.copytree(ROOT / "chapters", chapters)
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


def test_a_chapter_runs_in_lab_with_rendered_statements_and_live_widgets(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{lab}/lab/tree/{CHAPTER}?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        statement = page.locator(".jp-MarkdownCell aside.myst-proof .myst-proof-header").first
        statement.wait_for(timeout=60_000)
        assert "Definition 1.1.1" in statement.inner_text()
        rendered = page.locator(".jp-MarkdownCell .jp-RenderedHTMLCommon, .jp-MarkdownCell .myst")
        raw = [t for t in rendered.all_inner_texts() if "{prf:" in t or ":label: thesis-" in t or ":::{" in t]
        assert not raw, f"raw MyST in Lab: {raw[:2]}"
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_function("""() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
            .every(e => /\\[\\d+\\]/.test(e.textContent))""", timeout=300_000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
        assert not tracebacks, f"cells failed in Lab: {tracebacks[:2]}"
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
