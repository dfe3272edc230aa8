"""thesis_lib.infra.paths against the file system: the repository root is the checkout these tests and the
imported library live in (it holds _toc.yml and thesis_lib/), and the other paths lie inside it."""

from pathlib import Path

import thesis_lib
from thesis_lib.infra import paths

CHECKOUT = Path(__file__).resolve().parents[1]


def test_the_repository_root_is_the_checkout_holding_the_book_and_the_library():
    assert paths.REPO_ROOT.is_absolute()
    assert (paths.REPO_ROOT / "_toc.yml").is_file() and (paths.REPO_ROOT / "thesis_lib" / "__init__.py").is_file()
    assert paths.REPO_ROOT == Path(thesis_lib.__file__).resolve().parents[1]  # the library that is imported
    assert paths.REPO_ROOT == CHECKOUT  # and the checkout of these tests


def test_committed_checkpoints_and_the_data_folder_are_inside_the_root():
    assert paths.COMMITTED_DIR == paths.REPO_ROOT / "checkpoints"
    assert paths.DEFAULT_DATA_ROOT == paths.REPO_ROOT / "data"
    assert paths.COMMITTED_DIR.is_dir() and any(paths.COMMITTED_DIR.glob("*.json"))  # the committed manifests
