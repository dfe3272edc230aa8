"""Fidelity: every numbered statement of the thesis is in the book, non-empty, and linked; every errata box
explains itself; every statement the library cites is numbered so in the chapters; every library module
has its own test file."""

import collections
import re

import pytest

from thesis_lib.book import pages as book
from thesis_lib.book.pages import THESIS_LABELS


def test_the_thesis_has_44_numbered_items():
    assert len(THESIS_LABELS) == len(set(THESIS_LABELS)) == 44


@pytest.fixture(scope="module")
def found():
    return book.statements()


@pytest.mark.parametrize("label", THESIS_LABELS)
def test_statement_is_in_exactly_one_chapter_with_a_body(found, label):
    blocks = [s for s in found if s.label == label]
    assert len(blocks) == 1, f"{label} appears {len(blocks)} times in the chapters"
    block = blocks[0]
    kind = re.match(r"thesis-([a-z]+)-", label).group(1)
    assert block.kind == kind, f"{label} is a {block.kind} block, expected {kind}"
    assert len(block.body) > 40, f"{label} points at an (almost) empty block: {block.body!r}"


def test_intro_links_every_statement():
    intro = (book.REPO_ROOT / "intro.md").read_text()
    missing = [label for label in THESIS_LABELS if f"<{label}>`" not in intro]
    assert not missing, f"intro.md does not link {missing}"


def test_errata_are_unique_titled_and_explained():
    errata = book.errata()
    assert len(errata) >= 7, "the design notes list at least seven errata to verify"
    labels = [e.label for e in errata]
    assert len(labels) == len(set(labels))
    for e in errata:
        assert e.title.startswith("Erratum"), e
        assert e.severity in book.SEVERITIES, f"{e.label}: title {e.title!r} names no severity of {book.SEVERITIES}"
        assert len(e.body) > 80, e


_KINDS = {"Def": "definition", "Definition": "definition", "Thm": "theorem", "Theorem": "theorem",
          "Prop": "proposition", "Proposition": "proposition", "Lemma": "lemma", "Cor": "corollary",
          "Corollary": "corollary", "Ex": "example", "Example": "example", "Remark": "remark", "Rem": "remark"}
_CITATION = re.compile(r"\b(" + "|".join(_KINDS) + r")\.? (\d+\.\d+\.\d+(?:, \d+\.\d+\.\d+)*)")


def library_citations():
    """Every "Def 1.1.3"-style citation in thesis_lib, as (file, kind, number); "Def 1.1.6, 2.1.1" cites two."""
    for path in sorted((book.REPO_ROOT / "thesis_lib").rglob("*.py")):
        for match in _CITATION.finditer(path.read_text()):
            for number in match.group(2).split(", "):
                yield path.relative_to(book.REPO_ROOT).as_posix(), _KINDS[match.group(1)], number


def test_every_statement_the_library_cites_is_in_the_chapters_with_that_kind_and_number():
    numbered = {re.sub(r"^(thesis|vae)-", "", s.label) for s in book.statements()}
    cited = list(library_citations())
    assert len(cited) > 100
    wrong = sorted({(f, f"{kind} {number}") for f, kind, number in cited
                    if f"{kind}-{number.replace('.', '-')}" not in numbered})
    assert not wrong, f"thesis_lib cites statements that no chapter numbers so: {wrong}"


def test_the_citation_reader_reads_lists_and_abbreviations(tmp_path, monkeypatch):
    (tmp_path / "thesis_lib").mkdir()
    (tmp_path / "thesis_lib" / "m.py").write_text('"""Built from Def 1.1.6, 2.1.1 (Thm. 3.2.4); not 1.2.3."""')
    monkeypatch.setattr(book, "REPO_ROOT", tmp_path)
    assert list(library_citations()) == [("thesis_lib/m.py", "definition", "1.1.6"),
                                         ("thesis_lib/m.py", "definition", "2.1.1"),
                                         ("thesis_lib/m.py", "theorem", "3.2.4")]


def test_every_erratum_opens_with_a_one_line_correction_and_reads_out_of_context():
    import re

    found = book.errata()
    short = [e.label for e in found if not e.correction or len(e.correction) > 200 or "\n" in e.correction]
    assert not short, f"errata without a one-line correction of at most 200 characters: {short}"
    pointing = [e.label for e in found
                if re.search(r"\b(?:cells?|figure|box)\s+(?:below|above)\b", e.portable_body(), re.I)]
    assert not pointing, f"errata that point at a neighbouring cell on the errata page: {pointing}"
    table = book.errata_markdown().split("\n\n")[1]
    assert table.startswith("| statement | correction | where |")
    assert all(e.correction in table for e in found)


def modules_without_a_test_file(root) -> list[str]:
    """Each module under ``root/thesis_lib`` (recursively, no ``__init__.py``) whose own test file is missing,
    as ``module -> expected test file``: ``tests/test_<module>.py``, or, for a module in a subpackage whose
    name another module shares, ``tests/test_<parent package>_<module>.py``."""
    modules = sorted(p for p in (root / "thesis_lib").rglob("*.py") if p.name != "__init__.py")
    shared = {name for name, count in collections.Counter(p.stem for p in modules).items() if count > 1}
    missing = []
    for module in modules:
        in_subpackage = module.parent != root / "thesis_lib"
        name = f"test_{module.parent.name}_{module.stem}.py" if module.stem in shared and in_subpackage \
            else f"test_{module.stem}.py"
        if not (root / "tests" / name).is_file():
            missing.append(f"{module.relative_to(root).as_posix()} -> tests/{name}")
    return missing


def test_every_library_module_has_its_own_test_file():
    missing = modules_without_a_test_file(book.REPO_ROOT)
    assert not missing, f"library modules without their own test file: {missing}"


def test_the_test_file_rule_names_a_missing_file_and_prefixes_a_shared_name_in_a_subpackage(tmp_path):
    for name in ("thesis_lib/__init__.py", "thesis_lib/a.py", "thesis_lib/sub/__init__.py", "thesis_lib/sub/a.py",
                 "thesis_lib/sub/b.py", "thesis_lib/sub/deep/c.py", "tests/test_a.py", "tests/test_sub_a.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert modules_without_a_test_file(tmp_path) == ["thesis_lib/sub/b.py -> tests/test_b.py",
                                                     "thesis_lib/sub/deep/c.py -> tests/test_c.py"]
    (tmp_path / "tests" / "test_sub_a.py").rename(tmp_path / "tests" / "test_b.py")
    (tmp_path / "tests" / "test_c.py").write_text("")
    assert modules_without_a_test_file(tmp_path) == ["thesis_lib/sub/a.py -> tests/test_sub_a.py"]
    (tmp_path / "tests" / "test_sub_a.py").write_text("")
    assert modules_without_a_test_file(tmp_path) == []
