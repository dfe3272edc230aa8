"""Small Sphinx fixes for the rendered book, so its pages load without console errors.

- sphinx-thebe registers its inline configuration script twice on every page, which throws
  "Identifier 'THEBE_JS_URL' has already been declared": keep the first copy of each script.
- sphinx-book-theme leaves the pydata theme's default colour mode empty, which the theme reports
  as an error ("Got invalid theme mode") on a first visit: make it "light" explicitly.
- A number in prose is written ``{eval}`glued("<key>[:<format>]")``` (thesis_lib.book.glued), which
  JupyterLab evaluates in the kernel; the book pastes it from the glued output, as ``{glue:text}``.
- A link to a labelled statement or erratum of another chapter is ``[text](<chapter>.ipynb#<label>)``,
  which JupyterLab opens as the chapter; myst-parser resolves such a fragment only for a heading, so
  every explicit label of a page is offered as one of its fragments as well.
- A citation is a link ``[\\[<label>\\]](<address of the work>)`` (thesis_lib.book.citations), which
  JupyterLab shows as it is; the book points it at the entry of the bibliography page.
"""

from docutils import nodes
from docutils.nodes import make_id
from myst_nb.ext.glue.roles import PasteTextRole

from thesis_lib.book import citations
from thesis_lib.book.pages import GLUED_CALL

#: the page that lists every entry of references.bib, each with the id "cite-<key>" (bibtex_cite_id)
BIBLIOGRAPHY = "bibliography"


class GluedRole(PasteTextRole):
    """``{eval}`glued("<key>[:<format>]")```: myst-nb's ``{glue:text}`<key>[:<format>]``` of this page."""

    def run(self):
        match = GLUED_CALL.fullmatch(self.text)
        if match is None:
            message = (f"{{eval}}`{self.text}` is not allowed in this book; write {{eval}}`glued(\"<key>\")` "
                       f"or {{eval}}`glued(\"<key>:<format>\")` for a number glued on this page")
            return [], [self.document.reporter.error(message, line=self.line)]
        self.text = match.group(1)
        return super().run()


def offer_labels_as_fragments(app, doctree):
    """Let ``[text](page.ipynb#label)`` reach any explicit label of the page (myst-parser's fragments of
    another document are its heading slugs only)."""
    slugs = app.env.metadata[app.env.docname].setdefault("myst_slugs", {})
    targets = {name: node_id for name, node_id in doctree.nameids.items() if node_id}
    # a directive's :label: is an id of its node, which sphinx-proof does not register with the document
    targets |= {node_id: node_id for node in doctree.findall(nodes.Element) for node_id in node.get("ids", [])}
    for name, node_id in targets.items():
        slugs.setdefault(name, (0, node_id, ""))


def cite_from_bibliography(app, doctree, docname):
    """Each citation link ``[<label>]`` to a work's address leads to its entry on the bibliography page."""
    for node in doctree.findall(nodes.reference):
        text = node.astext()
        key = (citations.cited_key(text[1:-1], node.get("refuri", ""))
               if text.startswith("[") and text.endswith("]") else None)
        if key is not None:
            node["refuri"] = app.builder.get_relative_uri(docname, BIBLIOGRAPHY) + "#" + make_id(f"cite-{key}")
            node["reftitle"] = f"{text[1:-1]}: {citations.title(key)}"
            node["internal"] = True
            node["classes"].append("citation-link")


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
    app.setup_extension("myst_nb")  # its own eval role, which needs an inline kernel, is replaced
    app.add_role("eval", GluedRole(), override=True)
    app.connect("doctree-read", offer_labels_as_fragments)
    app.connect("doctree-resolved", cite_from_bibliography)
    # Late, after every extension has added its scripts to the page.
    app.connect("html-page-context", fix_page_context, priority=1000)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
