"""Reproducible and parallel-safe builds of the real handbook.

Two clean builds of the same sources, with the same freshness date and SOURCE_DATE_EPOCH,
in different folders, give byte-identical HTML, identical LaTeX sources and a PDF with
identical text (and bytes).  Each clean build renders its diagrams into its OWN empty
cache: a shared cache would hand the second build the first build's pictures and hide
any nondeterminism of rendering.  A parallel build (``-j auto``) gives the same HTML and
the same (no) warnings as the serial one.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

TODAY = "2026-11-25"
EPOCH = "1764028800"  # 2026-11-25 00:00 UTC
#: files a build writes that are not its output: none for HTML.  For LaTeX, latexmk's own
#: bookkeeping (absolute paths and file times) and TeX's logs, which name the build folder
NOT_OUTPUT = frozenset({".fdb_latexmk", ".fls", ".log"})


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, HANDBOOK_TODAY=TODAY, SOURCE_DATE_EPOCH=EPOCH,
               HANDBOOK_CACHE_DIR=str(cache))
    env.pop("HANDBOOK_REPOSITORY_URL", None)
    env.pop("HANDBOOK_BASE_URL", None)
    return env


def sphinx(builder: str, root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The Makefile's strict build, into ``root/<builder>`` with ``root/cache``."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", builder, "-n", "-W", "--keep-going", "-q",
         *extra, "-d", str(root / f"doctrees-{builder}{''.join(extra)}"), "docs",
         str(root / (builder + "".join(extra)))],
        cwd=REPO, env=_env(root / "cache"), capture_output=True, text=True, check=False)


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
def clean_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two clean HTML and LaTeX builds, each in its own folder with its own empty cache."""
    roots = []
    for name in ("first", "second"):
        root = tmp_path_factory.mktemp(name)
        for builder in ("html", "latex"):
            done = sphinx(builder, root)
            assert done.returncode == 0, done.stderr[-3000:]
        roots.append(root)
    return roots[0], roots[1]


def test_two_clean_builds_give_byte_identical_html(clean_builds: tuple[Path, Path]) -> None:
    a, b = clean_builds
    assert (a / "html" / "index.html").is_file()
    # the data downloads are compared too
    assert {p.name for p in (a / "html" / "data").iterdir()
            if p.suffix not in (".gz", ".br")} == {
        "README.txt", "facts.csv", "facts.json", "sources.bib", "us-troops-iraq.csv"}
    # and the pre-compressed copies (handbook_tools.compress) and the cut stylesheets
    assert (a / "html" / "data" / "facts.json.gz").is_file()
    assert (a / "html" / "index.html.br").is_file()
    assert differing(a / "html", b / "html") == []


def test_two_clean_builds_give_identical_latex(clean_builds: tuple[Path, Path]) -> None:
    a, b = clean_builds
    assert (a / "latex" / "handbook.tex").is_file()
    assert list((a / "latex").glob("mermaid-*.pdf"))  # the diagrams are compared too
    assert differing(a / "latex", b / "latex") == []


@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="needs latexmk and pdftotext (make setup)")
def test_two_clean_builds_give_the_same_pdf(clean_builds: tuple[Path, Path]) -> None:
    texts = []
    for root in clean_builds:
        latex = root / "latex"
        done = subprocess.run(
            ["make", "-C", str(latex), "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error "
             "-quiet", "all-pdf"], env=_env(root / "cache"), capture_output=True, text=True,
            check=False)
        assert done.returncode == 0, done.stdout[-3000:]
        text = subprocess.run(["pdftotext", "-layout", str(latex / "handbook.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "Fact register" in text
        texts.append(text)
    assert texts[0] == texts[1]
    a, b = (root / "latex" for root in clean_builds)
    assert differing(a, b, NOT_OUTPUT) == []  # the PDF's bytes too


def test_parallel_build_gives_the_same_html_and_warnings(
        clean_builds: tuple[Path, Path]) -> None:
    """``-j auto`` (the first build's cache: rendering is compared above) against the
    serial build: the same bytes, and no warning in either."""
    a, _ = clean_builds
    done = sphinx("html", a, "-j", "auto")
    assert done.returncode == 0 and done.stderr == "", done.stderr[-3000:]
    assert differing(a / "html", a / "html-jauto") == []
