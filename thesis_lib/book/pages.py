"""The book about itself: which thesis statements each chapter carries, the errata the chapters
found, and the full-budget results of the committed checkpoints.

The errata page and the results page are generated from these functions, so they always say
what the chapters and the manifests say.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

from ..infra.paths import COMMITTED_DIR, REPO_ROOT

#: one label per numbered item of the thesis, in the thesis's order (44 in all)
THESIS_LABELS = (
    "thesis-definition-1-1-1", "thesis-example-1-1-2", "thesis-definition-1-1-3", "thesis-definition-1-1-4",
    "thesis-remark-1-1-5", "thesis-definition-1-1-6", "thesis-figure-1-1",
    "thesis-definition-1-2-1", "thesis-example-1-2-2", "thesis-definition-1-2-3", "thesis-theorem-1-2-4",
    "thesis-lemma-1-2-5", "thesis-corollary-1-2-6", "thesis-theorem-1-2-7",
    "thesis-definition-1-3-1", "thesis-remark-1-3-2", "thesis-lemma-1-3-3", "thesis-definition-1-3-4",
    "thesis-corollary-1-3-5", "thesis-proposition-1-3-6", "thesis-proposition-1-3-7",
    "thesis-proposition-1-3-8", "thesis-proposition-1-3-9",
    "thesis-definition-2-1-1", "thesis-figure-2-1", "thesis-figure-2-2", "thesis-definition-2-1-2",
    "thesis-figure-2-3", "thesis-lemma-2-1-3", "thesis-theorem-2-1-4", "thesis-definition-2-1-5",
    "thesis-remark-2-1-6",
    "thesis-definition-2-2-1", "thesis-example-2-2-2", "thesis-remark-2-2-3",
    "thesis-definition-2-3-1", "thesis-definition-2-3-2", "thesis-definition-2-3-3",
    "thesis-proposition-2-3-4", "thesis-algorithm-1",
    "thesis-definition-3-1-1", "thesis-definition-3-1-2", "thesis-definition-3-1-3", "thesis-remark-3-1-4",
)

_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{prf:(\w+)\}[^\n]*\n((?:\s*:[\w-]+:[^\n]*\n)*)(.*?)^\1\s*$",
                        re.S | re.M)
_ERRATUM = re.compile(r"^\((erratum-[\w-]+)\)=\s*\n(:{3,}|`{3,})\{admonition\}\s*([^\n]*)\n"
                      r"((?:\s*:[\w-]+:[^\n]*\n)*)(.*?)^\2\s*$", re.S | re.M)


def label_title(label: str) -> str:
    """``thesis-definition-1-1-3`` -> ``Definition 1.1.3``."""
    kind, number = re.match(r"thesis-([a-z]+)-([\d-]+)$", label).groups()
    return f"{kind.capitalize()} {number.replace('-', '.')}"


@dataclasses.dataclass(frozen=True)
class Page:
    """A notebook page of the book, in the order of the table of contents."""

    docname: str
    title: str
    cells: list

    def markdown(self) -> str:
        return "\n\n".join("".join(c["source"]) for c in self.cells if c["cell_type"] == "markdown")


def pages(root: Path = REPO_ROOT) -> list[Page]:
    """The notebook pages listed in ``_toc.yml``, in order."""
    out = []
    for name in re.findall(r"file:\s*(\S+)", (root / "_toc.yml").read_text()):
        path = root / f"{name}.ipynb"
        if path.exists():
            cells = json.loads(path.read_text())["cells"]
            heading = next((m.group(1) for c in cells if c["cell_type"] == "markdown"
                            for m in [re.search(r"^# (.+)$", "".join(c["source"]), re.M)] if m), name)
            out.append(Page(name, heading.strip(), cells))
    return out


@dataclasses.dataclass(frozen=True)
class Statement:
    label: str
    kind: str
    body: str
    page: str


def statements(root: Path = REPO_ROOT) -> list[Statement]:
    """Every labelled sphinx-proof block and labelled figure of the chapters."""
    found = []
    for page in pages(root):
        for match in _DIRECTIVE.finditer(page.markdown()):
            label = re.search(r":label:\s*(\S+)", match.group(3))
            if label:
                found.append(Statement(label.group(1), match.group(2), match.group(4).strip(), page.docname))
        for cell in page.cells:
            figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
            if figure.get("name"):
                found.append(Statement(figure["name"], "figure", str(figure.get("caption", "")).strip(),
                                       page.docname))
    return found


#: how wrong a statement of the thesis is, gravest first (the design notes' "Fidelity" rule)
SEVERITIES = ("false claim or proof", "wrong formula or index", "notation or wording")
_ERRATUM_TITLE = re.compile(r"^Erratum · (?P<severity>[a-z ]+?) — (?P<what>.+)$")
#: a myst-nb glue role: (role name or None, content ``[<doc>::]<key>[:<format>]``)
GLUE_ROLE = re.compile(r"\{glue(?::(\w+))?\}`([^`]*)`")
#: a number in a chapter's prose (thesis_lib.book.glued): ``glued("<key>[:<format>]")`` in an ``{eval}`` role
GLUED_CALL = re.compile(r'glued\("([^"`:]+(?::[^"`]*)?)"\)')
GLUED_ROLE = re.compile(r"\{eval\}`" + GLUED_CALL.pattern + "`")


@dataclasses.dataclass(frozen=True)
class Erratum:
    label: str
    title: str
    body: str
    page: str
    page_title: str

    @property
    def severity(self) -> str | None:
        """The severity named in the title ``Erratum · <severity> — <statement>``, if it names one."""
        match = _ERRATUM_TITLE.match(self.title)
        return match.group("severity") if match and match.group("severity") in SEVERITIES else None

    @property
    def what(self) -> str:
        """The statement or place the erratum corrects."""
        match = _ERRATUM_TITLE.match(self.title)
        return match.group("what") if match else self.title

    @property
    def correction(self) -> str | None:
        """The one-line correction the box opens with (``**Correction.** …``), if it has one."""
        match = _CORRECTION.search(self.body)
        return match.group(1).strip() if match else None

    def portable_body(self) -> str:
        """The body as another page can show it: each glued number points at the chapter that computes
        it, and "the cell below" and its kin name the chapter instead."""
        page_file = self.page.rsplit("/", 1)[-1]

        def point(m: re.Match) -> str:
            role, content = m.group(1), m.group(2)
            if "::" in content:
                return m.group(0)
            if role == "text" and ":" not in content:
                content += ":s"  # myst-nb reads <doc>::<key> only before a format spec
            return f"{{glue{':' + role if role else ''}}}`{page_file}.ipynb::{content}`"

        body = GLUED_ROLE.sub(lambda m: f"{{glue:text}}`{m.group(1)}`", self.body)
        body = GLUE_ROLE.sub(point, body)
        for pattern, replacement in _OUT_OF_CONTEXT:
            body = pattern.sub(_keep_case(replacement), body)
        return body


_CORRECTION = re.compile(r"^\*\*Correction\.\*\* (.+)$", re.M)
#: phrases that point at a neighbouring cell, figure or box of the chapter, and what the errata page
#: says instead (the case of the first letter is kept)
_OUT_OF_CONTEXT = [(re.compile(p), r) for p, r in (
    (r"\b[Ii]n\s+the\s+cell\s+below\b", "in the chapter's code"),
    (r"\b[Tt]he\s+cells\s+(?:below|above)\b", "the chapter's cells"),
    (r"\b[Tt]he\s+figure\s+(?:above|after\s+the\s+cell)\b", "the chapter's figure"),
    (r"\b[Tt]he\s+(?:next\s+)?cell(?:\s+(?:below|above))?\b", "the chapter's code"),
    (r"\b[Tt]he\s+box\s+above\b", "the chapter's statement box"),
    (r"\b[Tt]he\s+(?:trained\s+)?(?:network|model|RGB\s+image)\s+(?:from\s+)?above\b", "the chapter's example"),
    (r"\(see\s+the\s+note\s+below\)", "(see the chapter's note)"),
    (r"\(below:\s", "(in the chapter: "),
)]


def _keep_case(replacement: str):
    return lambda m: replacement[0].upper() + replacement[1:] if m.group(0)[0].isupper() else replacement


def errata(root: Path = REPO_ROOT) -> list[Erratum]:
    """Every ``(erratum-…)=`` admonition of the chapters, in the book's order."""
    return [Erratum(m.group(1), m.group(3).strip(), m.group(5).strip(), page.docname, page.title)
            for page in pages(root) for m in _ERRATUM.finditer(page.markdown())]


def errata_markdown(root: Path = REPO_ROOT) -> str:
    """The errata page's body: the count per severity, a table of all errata, then each erratum in
    full, gravest first, with a link to the experiment that decided it."""
    found = errata(root)
    unrated = [e.label for e in found if e.severity is None]
    if unrated:
        raise ValueError(f"errata without a severity in their title: {unrated}; title them "
                         f"'Erratum · <severity> — <statement>' with a severity of {SEVERITIES}")
    by_severity = {s: [e for e in found if e.severity == s] for s in SEVERITIES}
    counts = ", ".join(f"{len(group)} {name}" for name, group in by_severity.items())
    missing = [e.label for e in found if e.correction is None]
    if missing:
        raise ValueError(f"errata without a one-line correction: {missing}; open each box with "
                         "'**Correction.** <the corrected statement in one sentence>'")
    table = ["| statement | correction | where |", "|---|---|---|"] + [
        f"| {e.what} ({e.severity}) | {e.correction} | {{ref}}`{e.page_title} <{e.label}>` |"
        for group in by_severity.values() for e in group]
    blocks = [f"**{len(found)} errata**: {counts}.", "\n".join(table)]
    for name, group in by_severity.items():
        blocks.append(f"## {name[0].upper()}{name[1:]} ({len(group)})")
        blocks += [f"::::{{admonition}} {e.what}\n:class: warning\n{e.portable_body()}\n\n"
                   f"*In* {{ref}}`{e.page_title} <{e.label}>`.\n::::" for e in group]
    return "\n\n".join(blocks)


def build_inputs_digest(root: Path = REPO_ROOT) -> str:
    """md5 of everything the executed pages may depend on: the library, the chapters (the errata page
    reads them all), the committed manifests (the results page reads them) and the book's configuration.
    ``tools/build_book.sh`` stores it beside the build; a different value means the build is stale."""
    digest = hashlib.md5()
    for pattern in ("thesis_lib/**/*.py", "chapters/*.ipynb", "checkpoints/*.json", "_config.yml", "_toc.yml"):
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def manifests(directory: Path = COMMITTED_DIR) -> list[dict]:
    """The manifests of the committed full-budget checkpoints (``make reproduce``), in natural order of name
    (``ae-sweep-2`` before ``ae-sweep-10``)."""
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"), key=_natural_key)]


def _natural_key(path: Path) -> list:
    return [(0, float(part), "") if re.fullmatch(r"\d+(\.\d+)?", part) else (1, 0.0, part)
            for part in re.split(r"(\d+(?:\.\d+)?)", path.stem)]


#: how the results page names the numbers of a manifest's ``evaluation`` (others: the key with spaces)
EVALUATION_LABELS = {"test_nll_k5000": "test NLL (k = 5000, all 10,000 test images)",
                     "test_negative_elbo_k5000": "test −ELBO (the same k samples)",
                     "test_reconstruction": "of which reconstruction", "test_kl": "and KL",
                     "test_accuracy": "test accuracy",
                     "test_read_right": "both slots of the held-out test canvases read right",
                     "test_left_right": "left slot", "test_right_right": "right slot",
                     "cas_real": "CAS of 20,000 real canvases",
                     "read_as_asked": "read as asked (1,000 requests)",
                     "frechet_distance": "Fréchet distance to real canvases (reader features)",
                     "nearest_training_distance": "median distance to the nearest training canvas",
                     "requests": "requests", "seconds_per_canvas": "seconds per canvas",
                     "cas": "CAS (20,000 canvases)", "accepted_share": "share of draws accepted",
                     "request_acceptance_median": "median share of draws accepted as a given request",
                     "request_acceptance_min": "the rarest request's share",
                     "draws_per_accepted_canvas": "draws per canvas on demand",
                     "cas_canvases": "canvases of the CAS"}
#: the objective of each experiment's spec, in words (the results table's objectives)
OBJECTIVE_WORDS = {"cross-entropy": "cross-entropy", "mse": "MSE per pixel",
                   "negative-elbo": "−ELBO", "beta-negative-elbo": "−ELBO with β·KL",
                   "conditional-negative-elbo": "conditional −ELBO",
                   "canvas-negative-elbo": "−ELBO of canvases", "slot-cross-entropy": "cross-entropy of both slots",
                   "mse-sum-negative-elbo": "Gaussian −ELBO (squared error summed)",
                   "mse-mean-negative-elbo": "Gaussian −ELBO (squared error averaged)",
                   "negative-iwae-bound-k5": "−L₅ (IWAE bound)", "negative-iwae-bound-k5-dreg": "−L₅ (IWAE bound)"}


def results_markdown(directory: Path = COMMITTED_DIR) -> str:
    """Every committed full-budget checkpoint's manifest: a narrow table of the numbers (4 significant
    digits), then one line per experiment with what it is, how it was trained and on what device."""
    rows = manifests(directory)
    if not rows:
        return ("*No full-budget checkpoint is committed yet: `make reproduce` writes them into "
                "`checkpoints/`. Until then the chapters show their models at the budget they ran with.*")
    lines = ["| experiment | objective | epochs | wall time | train | test |", "|---|---|--:|--:|--:|--:|"]
    details = []
    for m in rows:
        metrics, config = m.get("metrics", {}), m.get("config", {})
        test = metrics.get("test_objective")
        epochs = f"{m['epochs']} of {m['of_epochs']}" if "of_epochs" in m else m["epochs"]  # a run in progress
        objective = m.get("spec", {}).get("objective", "")
        lines.append(f"| `{m['name']}` | {OBJECTIVE_WORDS.get(objective, objective)} | {epochs} | "
                     f"{m.get('wall_time_s', 0) / 60:.1f} min | "
                     f"{metrics.get('train_objective', float('nan')):#.4g} | {'—' if test is None else f'{test:#.4g}'} |")
        schedule = (f", {config['lr_schedule']} schedule" if config.get("lr_schedule", "constant") != "constant"
                    else "")
        further = "".join(f"; {EVALUATION_LABELS.get(name, name.replace('_', ' '))} **{value:#.4g}**"
                          for name, value in m.get("evaluation", {}).items())
        rows = (f"; train and test objective on the first {m['metric_rows']:,} rows of each"
                if "metric_rows" in m else "")
        details.append(f"- `{m['name']}`: {m.get('description', '')}{rows}. Batch {config.get('batch_size')}, "
                       f"lr {config.get('lr')}{schedule}; trained on {m.get('device', '')}{further}.")
    return "\n".join(lines) + "\n\n" + "\n".join(details)
