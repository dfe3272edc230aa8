"""The chapters' code as a maintainer and a reader meet it: thin cells that call the library, in
lines the rendered book shows whole (88 characters fit a code block at 1280 px; the browser test
checks the rendered blocks, this test the sources, in a second)."""

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MAX_LINE, MAX_CELL_LINES = 88, 25


def code_cells(path: Path):
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            yield i, "".join(cell["source"])


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_cells_are_short_and_their_lines_fit_the_page(path):
    too_long = [(i, len(src.splitlines())) for i, src in code_cells(path)
                if len(src.splitlines()) > MAX_CELL_LINES]
    wide = [(i, line) for i, src in code_cells(path) for line in src.splitlines() if len(line) > MAX_LINE]
    assert not too_long, f"cells over {MAX_CELL_LINES} lines (cell, lines): {too_long}"
    assert not wide, f"lines over {MAX_LINE} characters: {wide[:5]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_function_or_class_is_defined_in_a_chapter(path):
    defined = [(i, node.name) for i, src in code_cells(path) for node in ast.walk(ast.parse(src))
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    assert not defined, f"{path.name} defines {defined}: models, objectives and helpers live in thesis_lib"


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem[0].isdigit()], ids=lambda p: p.stem)
def test_every_chapter_uses_the_book_figure_style(path):
    opening = [src for _, src in code_cells(path)][:3]
    assert any("use_book_style()" in src.splitlines() for src in opening), (
        f"{path.name} does not call use_book_style() in its first cells")


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_library_name_the_prose_mentions_exists(path):
    import importlib
    import re

    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    text += "\n".join(str(c.get("metadata", {}).get("mystnb", {})) for c in cells)
    missing = []
    for dotted in sorted(set(re.findall(r"thesis_lib(?:\.\w+)+", text))):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
                break
            except ModuleNotFoundError:
                continue
        try:
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            missing.append(dotted)
    assert not missing, f"{path.name} names library objects that do not exist: {missing}"


def test_notebooks_pass_through_nbstripout_so_running_them_leaves_git_clean(tmp_path):
    """``.gitattributes`` sends every notebook through nbstripout with the keys of
    ``tools/git_filters.sh``; the committed chapters are already in that form, so the filter changes
    nothing in them, while a notebook with outputs and a kernel's metadata is cleaned."""
    import re
    import shutil
    import subprocess

    assert "*.ipynb filter=nbstripout diff=ipynb" in (ROOT / ".gitattributes").read_text()
    keys = re.search(r'extrakeys "([^"]+)"', (ROOT / "tools" / "git_filters.sh").read_text()).group(1)
    strip = shutil.which("nbstripout") or str(ROOT / ".venv" / "bin" / "nbstripout")
    for path in CHAPTERS:
        shutil.copy(path, tmp_path / path.name)
    run = json.loads(CHAPTERS[0].read_text())
    run["metadata"]["language_info"] = {"name": "python", "version": "3.11.7"}
    run["metadata"]["kernelspec"]["display_name"] = "Python 3 (ipykernel)"
    cell = next(c for c in run["cells"] if c["cell_type"] == "code")
    cell["outputs"], cell["execution_count"] = [{"output_type": "stream", "name": "stdout", "text": "x"}], 3
    (tmp_path / "ran-in-lab.ipynb").write_text(json.dumps(run))
    subprocess.run([strip, "--extra-keys", keys, *sorted(tmp_path.glob("*.ipynb"))], check=True)
    for path in CHAPTERS:
        assert json.loads((tmp_path / path.name).read_text()) == json.loads(path.read_text()), (
            f"{path.name} is not in nbstripout's form: run tools/git_filters.sh and commit it again")
    assert json.loads((tmp_path / "ran-in-lab.ipynb").read_text()) == json.loads(CHAPTERS[0].read_text())


def _markdown(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")


def _labels(path: Path) -> set[str]:
    import re

    text = _markdown(path)
    return set(re.findall(r"^\(([\w-]+)\)=", text, re.M)) | set(re.findall(r"^:label: ([\w-]+)", text, re.M))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_links_between_chapters_are_ones_jupyterlab_follows_to_labels_that_exist(path):
    """No {ref}, {prf:ref} or {doc} role (JupyterLab leaves them as href="#"): [text](chapter.ipynb#label)
    to a label, also one of this chapter (the book resolves a bare #label of a statement nowhere), and
    [text](chapter.ipynb) to a page."""
    import re

    text = _markdown(path)
    assert not re.findall(r"\{(?:ref|prf:ref|doc|numref)\}`", text)
    assert not re.findall(r"\]\(#", text), "a bare #label: name the chapter"
    for target, label in re.findall(r"\]\(([\w.]*?)(?:#([\w-]+))?\)", text):
        page = ROOT / "chapters" / target
        assert page.suffix == ".ipynb" and page.exists(), f"{path.stem}: a link to {target!r}"
        assert not label or label in _labels(page), f"{path.stem}: {target}#{label} is no label there"
