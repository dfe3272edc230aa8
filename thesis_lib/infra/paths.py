"""Where the book's own files are: the repository root, its committed checkpoints and its data folder.

The library is installed in editable mode (``pip install -e .``, done by ``make``), so these paths
are those of the checkout the reader works in.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_DIR = REPO_ROOT / "checkpoints"
DEFAULT_DATA_ROOT = REPO_ROOT / "data"
