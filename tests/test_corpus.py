"""The bad-input corpus: every case gives its exact messages, through the CLI and the build.

Each ``tests/corpus/<case>/`` holds ``files/`` (copied over the clean project
``tests/roots/test-clean``), ``expected.txt`` (the exact ``path:line: message (check)``
lines, in any order) and optionally ``env`` (``NAME=value`` lines set for the case).
"""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from conftest import CORPUS, ROOTS, Built, shorten
from handbook_tools.cli import main

CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def make_case(case: str, dest: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shutil.copytree(ROOTS / "test-clean", dest)
    files = CORPUS / case / "files"
    if files.is_dir():
        shutil.copytree(files, dest, dirs_exist_ok=True)
    env = CORPUS / case / "env"
    if env.is_file():
        for line in env.read_text().splitlines():
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)
    expected = (CORPUS / case / "expected.txt").read_text(encoding="utf-8")
    return sorted(line for line in expected.splitlines() if line.strip())


@pytest.mark.parametrize("case", CASES)
def test_cli_reports_exactly(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check DOCS`` of a project outside the working folder prints its absolute paths;
    shortened against the project, they read as the corpus writes them."""
    project = tmp_path / "p"
    expected = make_case(case, project, monkeypatch)
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["check", str(project)])
    got = sorted(shorten(line, project) for line in out.getvalue().splitlines()
                 if line.strip())
    assert got == expected
    assert code == 1
    assert "Traceback" not in out.getvalue()


@pytest.mark.parametrize("case", CASES)
def test_strict_build_fails_with_exactly(case: str, tmp_path: Path, build,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    expected = make_case(case, tmp_path / "p", monkeypatch)
    built = build(tmp_path / "p")
    assert "Traceback" not in built.warnings + built.status
    # a warning under -W fails the strict build: there must be at least one, and the same
    assert sorted(set(built.messages())) == expected


@pytest.mark.sphinx("html", testroot="clean", confoverrides={"nitpicky": True},
                    freshenv=True)
def test_clean_project_has_no_warning(app) -> None:
    built = Built(app)
    app.build()
    assert built.warnings == ""
    html = (built.outdir / "index.html").read_text(encoding="utf-8")
    assert "about 2,500" in html and "(as of September 2024)" in html
    assert 'href="register.html#fact-troops-2024"' in html
    assert '<div class="hb-diagram" role="img"' in html
    # titles keep their capitals (pybtex's plain style would print "Us troops stay in iraq")
    assert "US troops stay in Iraq." in (built.outdir / "sources.html").read_text("utf-8")


@pytest.mark.parametrize("case", ["unknown-fact", "unused-fact", "unlinked-term", "non-utf8",
                                  "weak-only", "unknown-publisher"])
def test_parallel_build_reports_the_same(case: str, tmp_path: Path, build,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """-j 2 gives the same warnings as a serial build; touching pages and rebuilding gives
    no duplicated or lost records."""
    expected = make_case(case, tmp_path / "p", monkeypatch)
    built = build(tmp_path / "p", parallel=2)
    assert sorted(set(built.messages())) == expected
    assert len(built.messages()) == len(expected)  # nothing twice
    for page in ("index.md", "glossary.md", "register.md"):
        (tmp_path / "p" / page).touch()
    again = build(tmp_path / "p", parallel=2, freshenv=False)
    assert sorted(again.messages()) == expected


def test_html_only_link_check_reports_once_at_the_line(tmp_path: Path, build) -> None:
    """A raw HTML link to a missing anchor is caught in the built site (the CLI's
    read-only pass cannot see it); a Markdown link MyST already reports is not reported a
    second time by the site check."""
    shutil.copytree(ROOTS / "test-clean", tmp_path / "p")
    index = tmp_path / "p" / "index.md"
    lines = index.read_text(encoding="utf-8").splitlines()
    lines[2:2] = ["See [the glossary](glossary.md#nowhere).", "",
                  '<a href="glossary.html#elsewhere">glossary</a>', "",
                  "See [below](#missing).", ""]
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    built = build(tmp_path / "p")
    assert sorted(built.messages()) == [
        "index.md:3: local id not found in doc 'glossary': 'nowhere' (myst.xref_missing)",
        "index.md:5: broken internal link 'glossary.html#elsewhere' in index.html: "
        "no element with id 'elsewhere' (link)",
        "index.md:7: 'myst' cross-reference target not found: 'missing' (myst.xref_missing)",
    ]


# ---------------------------------------------------------------------------- records
#: pages that cite facts and link terms: the records a parallel build must merge
PAGES = {
    "p1": "{fact}`troops.2024` support the {term}`ISF`.",
    "p2": "The invasion began on {fact:value}`invasion.start`.",
    "p3": "{fact}`troops.2024` and {fact:date}`invasion.start`.",
    "p4": "The {term}`MNF` led the coalition.",
    "p5": "A page without facts.",
    "p6": "{fact:value}`troops.2024`.",
}
#: then: p3 stops citing invasion.start, p4 stops linking MNF, p5 starts citing a fact
EDITS = {
    "p3": "{fact}`troops.2024` only.",
    "p4": "The coalition was led by others.",
    "p5": "The invasion began on {fact:value}`invasion.start`.",
}


def _records_project(dest: Path) -> Path:
    shutil.copytree(ROOTS / "test-clean", dest)
    for name, text in PAGES.items():
        (dest / f"{name}.md").write_text(f"# Page {name}\n\n{text}\n", encoding="utf-8")
    index = dest / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "sources\n```", "sources\n" + "\n".join(PAGES) + "\n```"), encoding="utf-8")
    glossary = dest / "glossary.md"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace(
        "```\n", "\nMNF\n  **Multi-National Force**. The coalition command.\n```\n"),
        encoding="utf-8")
    return dest


def _edit(project: Path) -> None:
    for name, text in EDITS.items():
        (project / f"{name}.md").write_text(f"# Page {name}\n\n{text}\n", encoding="utf-8")
    for name in ("p1", "p2", "index"):  # touched, not changed
        (project / f"{name}.md").touch()


def used_on(outdir: Path) -> dict[str, list[str]]:
    """The fact register's "Used on" cell of each fact: the pages that use it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((outdir / "register.html").read_text(encoding="utf-8"),
                         "html.parser")
    rows = {}
    for row in soup.select("table.hb-register tbody tr"):
        cells = row.find_all("td")
        rows[cells[0].get_text(strip=True)] = [a.get_text() for a in cells[-1].find_all("a")]
    return rows


def test_parallel_and_incremental_builds_keep_every_record(tmp_path: Path, build) -> None:
    """The register's "Used on" lists and the glossary's use records are the same from a
    serial build, a -j 2 build, and a -j 2 rebuild after editing and touching pages (the
    same as a fresh build of the edited pages): nothing duplicated, nothing lost."""
    serial = build(_records_project(tmp_path / "serial"))
    par = build(_records_project(tmp_path / "par"), parallel=2)
    assert serial.warnings == par.warnings == ""
    before = {"invasion.start": ["Chronology", "Clean", "Page p2", "Page p3"],
              "troops.2024": ["Clean", "Page p1", "Page p3", "Page p6"]}
    assert used_on(serial.outdir) == used_on(par.outdir) == before
    assert differing_pages(serial.outdir, par.outdir) == []

    _edit(par.srcdir)
    again = build(par.srcdir, parallel=2, freshenv=False)
    fresh_src = _records_project(tmp_path / "fresh")
    _edit(fresh_src)
    fresh = build(fresh_src)
    after = {"invasion.start": ["Chronology", "Clean", "Page p2", "Page p5"],
             "troops.2024": ["Clean", "Page p1", "Page p3", "Page p6"]}
    assert used_on(again.outdir) == used_on(fresh.outdir) == after
    unused = "glossary.md:7: glossary entry 'MNF' is never linked from a page: link it with " \
             "{term}`MNF` or remove it (unused-term)"
    for built in (again, fresh):
        assert built.messages() == [unused]
    assert differing_pages(again.outdir, fresh.outdir) == []


def differing_pages(a: Path, b: Path) -> list[str]:
    """HTML pages that differ between two builds (or exist in one only)."""
    pages_a = {p.relative_to(a).as_posix() for p in a.rglob("*.html")}
    pages_b = {p.relative_to(b).as_posix() for p in b.rglob("*.html")}
    out = sorted(pages_a ^ pages_b)
    return out + [p for p in sorted(pages_a & pages_b)
                  if (a / p).read_bytes() != (b / p).read_bytes()]
