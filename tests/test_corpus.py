"""The bad-input corpus: every case gives its exact messages, through the CLI and the build.

Each ``tests/corpus/<case>/`` holds ``files/`` (copied over the clean project
``tests/roots/test-clean``), ``expected.txt`` (the exact ``path:line: message (check)``
lines, in any order) and optionally ``env`` (``NAME=value`` lines set for the case).
"""

from __future__ import annotations

import io
import os
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from conftest import CORPUS, ROOTS, build_project
from handbook_tools.cli import main, parse_warnings

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
    expected = make_case(case, tmp_path / "p", monkeypatch)
    monkeypatch.chdir(tmp_path / "p")
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["check", "."])
    got = sorted(line for line in out.getvalue().splitlines() if line.strip())
    assert got == expected
    assert code == 1
    assert "Traceback" not in out.getvalue()


@pytest.mark.parametrize("case", CASES)
def test_strict_build_fails_with_exactly(case: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    expected = make_case(case, tmp_path / "p", monkeypatch)
    built = build_project(tmp_path / "p", "html")
    assert "Traceback" not in built.warnings + built.status
    old = os.getcwd()
    os.chdir(tmp_path / "p")
    try:
        got = sorted({str(p) for p in parse_warnings(built.warnings)})
    finally:
        os.chdir(old)
    # a warning under -W fails the strict build: there must be at least one, and the same
    assert got == expected


def test_clean_project_has_no_warning(tmp_path: Path) -> None:
    shutil.copytree(ROOTS / "test-clean", tmp_path / "p")
    built = build_project(tmp_path / "p", "html")
    assert built.warnings == ""
    html = (built.outdir / "index.html").read_text(encoding="utf-8")
    assert "about 2,500" in html and "(as of September 2024)" in html
    assert 'href="register.html#fact-troops-2024"' in html
    assert '<div class="hb-diagram" role="img"' in html


@pytest.mark.parametrize("case", ["unknown-fact", "unused-fact", "unlinked-term"])
def test_parallel_build_reports_the_same(case: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """-j 2 gives the same warnings as a serial build; touching pages and rebuilding gives
    no duplicated or lost records."""
    expected = make_case(case, tmp_path / "p", monkeypatch)
    built = build_project(tmp_path / "p", "html", parallel=2)
    monkeypatch.chdir(tmp_path / "p")
    assert sorted({str(p) for p in parse_warnings(built.warnings)}) == expected
    assert len(parse_warnings(built.warnings)) == len(expected)  # nothing twice
    for page in ("index.md", "glossary.md", "register.md"):
        (tmp_path / "p" / page).touch()
    again = build_project(tmp_path / "p", "html", parallel=2, freshenv=False)
    assert sorted(str(p) for p in parse_warnings(again.warnings)) == expected


def test_html_only_link_check_reports_once_at_the_line(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A raw HTML link to a missing anchor is caught in the built site (the CLI's
    read-only pass cannot see it); a Markdown link MyST already reports is not reported a
    second time by the site check."""
    shutil.copytree(ROOTS / "test-clean", tmp_path / "p")
    index = tmp_path / "p" / "index.md"
    lines = index.read_text(encoding="utf-8").splitlines()
    lines[2:2] = ["See [the glossary](glossary.md#nowhere).", "",
                  '<a href="glossary.html#elsewhere">glossary</a>', ""]
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    built = build_project(tmp_path / "p", "html")
    monkeypatch.chdir(tmp_path / "p")
    assert sorted(str(p) for p in parse_warnings(built.warnings)) == [
        "index.md:3: local id not found in doc 'glossary': 'nowhere' (myst.xref_missing)",
        "index.md:5: broken internal link 'glossary.html#elsewhere' in index.html: "
        "no element with id 'elsewhere' (link)",
    ]
