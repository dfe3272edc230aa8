import os

import pytest

os.environ.setdefault("THESIS_PROGRESS", "off")


@pytest.fixture
def shown_by(monkeypatch):
    """``shown_by(module)``: the list that collects every figure the widgets of ``module`` display."""
    def capture(module):
        shown = []
        monkeypatch.setattr(module, "display", shown.append)
        return shown

    return capture


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private model cache for one test."""
    monkeypatch.setenv("THESIS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
