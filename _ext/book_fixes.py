"""Small Sphinx fixes for the rendered book, so its pages load without console errors.

- sphinx-thebe registers its inline configuration script twice on every page, which throws
  "Identifier 'THEBE_JS_URL' has already been declared": keep the first copy of each script.
- sphinx-book-theme leaves the pydata theme's default colour mode empty, which the theme reports
  as an error ("Got invalid theme mode") on a first visit: make it "light" explicitly.
"""


def _script_identity(script):
    return getattr(script, "filename", script) or None, tuple(sorted(getattr(script, "attributes", {}).items()))


def fix_page_context(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        identity = _script_identity(script)
        if identity not in seen:
            seen.add(identity)
            unique.append(script)
    context["script_files"][:] = unique
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def setup(app):
    # Late, after every extension has added its scripts to the page.
    app.connect("html-page-context", fix_page_context, priority=1000)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
