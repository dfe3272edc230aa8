"""The book's local Sphinx extension (_ext/book_fixes.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext"))

import book_fixes  # noqa: E402


class Script:
    def __init__(self, filename, **attributes):
        self.filename, self.attributes = filename, attributes


def test_each_script_is_kept_once_in_its_first_place_and_the_colour_mode_is_set():
    thebe = Script(None, body="const THEBE_JS_URL = 1")
    scripts = [Script("a.js"), thebe, Script("b.js", defer="defer"), Script(None, body="const THEBE_JS_URL = 1"),
               Script("a.js"), Script("b.js")]
    context = {"script_files": scripts, "default_mode": ""}
    book_fixes.fix_page_context(None, "page", "page.html", context, None)
    assert [(s.filename, s.attributes) for s in context["script_files"]] == [
        ("a.js", {}), (None, {"body": "const THEBE_JS_URL = 1"}), ("b.js", {"defer": "defer"}), ("b.js", {})]
    assert context["script_files"] is scripts and context["default_mode"] == "light"


def test_a_colour_mode_that_is_set_is_kept():
    context = {"script_files": [], "default_mode": "dark"}
    book_fixes.fix_page_context(None, "page", "page.html", context, None)
    assert context["default_mode"] == "dark"
