import os

import pytest

os.environ.setdefault("THESIS_PROGRESS", "off")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private model cache for one test."""
    monkeypatch.setenv("THESIS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
