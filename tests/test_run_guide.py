"""The "Run it yourself" page's tables: execution times read back from a jupyter-cache that this test
writes with jupyter-cache's own API, and the budgets of the experiment registry."""

import json

import pytest

from thesis_lib.book import run_guide
from thesis_lib.experiments.experiment import registered


def _book(root, prefix=""):
    (root / "chapters").mkdir(parents=True)
    (root / "_toc.yml").write_text("root: intro\nchapters:\n  - file: chapters/b\n  - file: chapters/a\n")
    for name, title in (("a", "A page"), ("b", "B page")):
        cell = {"cell_type": "markdown", "id": "0", "metadata": {}, "source": [f"# {prefix}{title}\n"]}
        code = {"cell_type": "code", "id": "1", "metadata": {}, "execution_count": None, "outputs": [],
                "source": [f"page = {prefix + title!r}"]}  # the cache tells notebooks apart by their code
        notebook = {"cells": [cell, code], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (root / "chapters" / f"{name}.ipynb").write_text(json.dumps(notebook))


def test_the_run_times_are_jupyter_caches_records_of_this_checkout(tmp_path):
    from jupyter_cache import get_cache

    root, other = tmp_path / "book", tmp_path / "other"
    _book(root)
    _book(other, prefix="another ")
    cache = get_cache(tmp_path / "cache")
    cache.cache_notebook_file(root / "chapters" / "a.ipynb", data={"execution_seconds": 12.5}, check_validity=False)
    cache.cache_notebook_file(root / "chapters" / "b.ipynb", data={"execution_seconds": 3.0}, check_validity=False)
    cache.cache_notebook_file(other / "chapters" / "a.ipynb", data={"execution_seconds": 99.0}, check_validity=False)
    times = run_guide.page_run_times(tmp_path / "cache", root)
    assert times == {"chapters/a": 12.5, "chapters/b": 3.0}
    assert run_guide.run_times_markdown(times, root).splitlines()[2:] == [
        "| B page | 3 |", "| A page | 12 |", "| all pages | 16 |"]  # book order; 12.5 rounds to even


def test_no_cache_means_no_times_and_a_page_that_says_so(tmp_path):
    assert run_guide.page_run_times(tmp_path / "absent", tmp_path) == {}
    assert not (tmp_path / "absent").exists()  # reading creates no cache
    assert "Not measured here yet" in run_guide.run_times_markdown({})


def test_the_budgets_table_lists_every_experiment_with_its_committed_epochs(tmp_path):
    experiments = registered()
    (tmp_path / "clf-gd.json").write_text(json.dumps({"name": "clf-gd", "epochs": 30}))
    (tmp_path / "clf-sgd.json").write_text(json.dumps({"name": "clf-sgd", "epochs": 5, "of_epochs": 30}))
    rows = {line.split(" | ")[0].strip("| `"): line for line in run_guide.budgets_markdown(tmp_path).splitlines()[2:]}
    assert set(rows) == set(experiments)
    gd = experiments["clf-gd"]
    assert rows["clf-gd"] == f"| `clf-gd` | {gd.config('quick').epochs} | {gd.config('full').epochs} | 30 |"
    assert rows["clf-sgd"].endswith("| 5 of 30 |")
    assert all(line.endswith("| — |") for name, line in rows.items() if name not in ("clf-gd", "clf-sgd"))


@pytest.mark.parametrize("threads", [1, 2])
def test_the_machine_names_its_cores_and_torchs_threads(threads):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        assert run_guide.machine().endswith(f"torch with {threads} thread{'s' if threads > 1 else ''}")
    finally:
        torch.set_num_threads(before)
