"""Reproducible and parallel-safe builds of the real handbook.

Two clean builds of the same sources, with the same freshness date and SOURCE_DATE_EPOCH,
in different folders, give byte-identical HTML, identical LaTeX sources and a PDF with
identical text (and bytes).  Each clean build renders its diagrams into its OWN empty
cache: a shared cache would hand the second build the first build's pictures and hide
any nondeterminism of rendering.  A parallel build (``-j auto``) gives the same HTML and
the same (no) warnings as the serial one.

The first build is ``real_book`` of conftest.py, which test_book reads too (one build
for both files, made by whichever worker of ``pytest -n`` asks first; this file is an
xdist group of its own, so that the second build can be made on the other worker at the
same time).
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Book, book_env, sphinx_book

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("book-repro")]

#: files a build writes that are not its output: none for HTML.  For LaTeX, latexmk's own
#: bookkeeping (absolute paths and file times) and TeX's logs, which name the build folder
NOT_OUTPUT = frozenset({".fdb_latexmk", ".fls", ".log"})


def differing(a: Path, b: Path, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every file that is in one tree only, or in both with different bytes."""
    files_a = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    out = sorted(f"only in one build: {f}" for f in files_a ^ files_b)
    for rel in sorted(files_a & files_b):
        if any(rel.endswith(s) for s in skip):
            continue
        if not filecmp.cmp(a / rel, b / rel, shallow=False):
            out.append(rel)
    return out


@pytest.fixture(scope="module")
def clean_builds(real_book_again: Book, real_book: Book) -> tuple[Book, Book]:
    """Two clean HTML and LaTeX builds (and PDFs), each in its own folder with its own
    empty cache. The second first: the other worker may be making the first."""
    for book in (real_book, real_book_again):
        for done in (book.html, book.latex):
            assert done.returncode == 0, done.stderr[-3000:]
    return real_book, real_book_again


def test_two_clean_builds_give_byte_identical_html(clean_builds: tuple[Book, Book]) -> None:
    a, b = (book.root for book in clean_builds)
    assert (a / "html" / "index.html").is_file()
    # the data downloads are compared too
    assert {p.name for p in (a / "html" / "data").iterdir()
            if p.suffix not in (".gz", ".br")} == {
        "README.txt", "facts.csv", "facts.json", "sources.bib", "us-troops-iraq.csv"}
    # and the pre-compressed copies (handbook_tools.compress) and the cut stylesheets
    assert (a / "html" / "data" / "facts.json.gz").is_file()
    assert (a / "html" / "index.html.br").is_file()
    assert differing(a / "html", b / "html") == []


def test_two_clean_builds_give_identical_latex(clean_builds: tuple[Book, Book]) -> None:
    a, b = (book.root / "latex" for book in clean_builds)
    assert (a / "handbook.tex").is_file()
    assert list(a.glob("mermaid-*.pdf"))  # the diagrams are compared too
    # the folders hold latexmk's output too (the fixture made the PDFs): all but its logs
    assert differing(a, b, NOT_OUTPUT) == []


@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="needs latexmk and pdftotext (make setup)")
def test_two_clean_builds_give_the_same_pdf(clean_builds: tuple[Book, Book]) -> None:
    texts = []
    for book in clean_builds:
        assert book.pdf.returncode == 0, book.pdf.stdout[-3000:]
        text = subprocess.run(["pdftotext", "-layout", str(book.root / "latex" /
                                                           "handbook.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "Fact register" in text
        texts.append(text)
    assert texts[0] == texts[1]
    a, b = (book.root / "latex" for book in clean_builds)
    assert filecmp.cmp(a / "handbook.pdf", b / "handbook.pdf", shallow=False)  # the bytes too


def test_parallel_build_gives_the_same_html_and_warnings(
        clean_builds: tuple[Book, Book]) -> None:
    """``-j auto`` (the first build's cache: rendering is compared above) against the
    serial build: the same bytes, and no warning in either."""
    a = clean_builds[0].root
    done = sphinx_book("html", a / "html-jauto", a / "doctrees-html-jauto",
                       book_env(a / "cache"), "-j", "auto")
    assert done.returncode == 0 and done.stderr == "", done.stderr[-3000:]
    assert differing(a / "html", a / "html-jauto") == []
