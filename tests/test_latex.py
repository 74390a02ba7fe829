"""No raw TeX errors: the roles work in the PDF in every context LaTeX treats differently
from HTML, and when LaTeX fails anyway the message names the page and line.

``tests/roots/test-latex`` has one page per context (section headings, figure and table
captions, table cells, glossary terms, footnotes, admonition titles, link text), each
using ``{fact}``, ``{fact:value}``, ``{fact:date}``, ``{cite:p}`` and ``{term}``; it is
built once (Sphinx, then latexmk with XeLaTeX, as ``make pdf`` does) for all of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, ROOTS, Built, build_once
from handbook_tools.latex import MARKER, raw_latex_problem, tex_error

# the tests of the ``contexts`` build run on one worker of `pytest -n`: it is built once
pytestmark = pytest.mark.xdist_group("latex")
LATEXMKOPTS = "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error -quiet -file-line-error"
FACT = "about 2,500 (as of September 2024) [1]"
VALUE = "about 2,500 [1]"
DATE = "March 2003"
#: what each context's chapter of the PDF must read (whitespace-normalised)
EXPECTED = {
    "HEADINGS": [f"1.1 Troops {FACT} today", f"1.2 Value {VALUE} alone",
                 f"1.3 Began {DATE}", "1.4 Cited [1] here", "1.5 The ISF in a heading",
                 "1.6 Odd the 100% “Strategic_Framework” & {agreement} #1 ~ $5^ \\ end [1]"],
    "CAPTIONS": [f"Fig. 1: Figure of {FACT}, {DATE}, the ISF and [1].",
                 f"Table 1: Table of {VALUE}, {DATE}, the ISF and [1]",
                 f"Table 2: Pipe table of {FACT} and ISF [1]"],
    "TABLES": [f"fact {FACT}", f"value {VALUE}", f"date {DATE}", "cite [1]", "term ISF",
               f"{VALUE} and {DATE}"],
    "GLOSSARY": [f"Troops {VALUE}", f"A term with the value of a fact, {FACT}.",
                 f"Surge of {DATE}", "A term with a date [1].", "Cited [1]"],
    "FOOTNOTES": [f"Footnote with {FACT} and {DATE}.", f"Footnote with [1] and {VALUE}.",
                  "Footnote with the ISF."],
    "ADMONITIONS": [f"Title with {FACT}", f"Title with {VALUE} and {DATE}",
                    "Title with [1] and the ISF", f"A note with {FACT}."],
    "LINKS": [f"See the count {FACT}.", f"See the value {VALUE}.", f"See the date {DATE}.",
              "See the source [1].", "See the ISF.", f"See the glossary page {DATE}."],
}
#: long words of table cells: they wrap, so they are compared without white space
LONG = ["https://www.example.org/a/very/long/path/that/does/not/break/anywhere/at/all/"
        "because/it/is/one/word/index.html",
        "https://www.example.org/a/linked/path/that/does/not/break/anywhere/at/all/"
        "because/it/is/one/word/index.html",
        "https://www.example.org/code/path/that/does/not/break/anywhere/at/all/"
        "because/it/is/one/word/index.html",
        "0123456789abcdef" * 6,
        "oir.security-agreement.withdrawal-deadline-extended-twice",
        "https://www.example.org/another/very/long/path/that/does/not/break/anywhere/at/all/"
        "index.html"]


def _env() -> dict[str, str]:
    return dict(os.environ, SOURCE_DATE_EPOCH="1764028800")


def latexmk(outdir: Path) -> subprocess.CompletedProcess[str]:
    """``make pdf``'s LaTeX run, in a built LaTeX folder."""
    return subprocess.run(["make", "-C", str(outdir), "all-pdf", LATEXMKOPTS], env=_env(),
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Built, subprocess.CompletedProcess[str]]:
    src = tmp_path_factory.mktemp("latex") / "p"
    shutil.copytree(ROOTS / "test-latex", src)
    built = build_once(src, "latex")
    return built, latexmk(built.outdir)


def chapters(pdf: Path) -> dict[str, str]:
    """The PDF's text by chapter (its upper-case title), white space normalised."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    out = {}
    for part in re.split(r"\bCHAPTER\s+[A-Z]+\s+", text)[1:]:
        title, _, body = part.partition("\n")
        out[title.strip()] = " ".join(body.split())
    return out


@pytest.mark.slow
def test_every_role_works_in_every_context(contexts) -> None:
    built, proc = contexts
    assert built.warnings == ""  # nothing to report before LaTeX runs: it all works
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    pdf = built.outdir / "handbook.pdf"
    text = chapters(pdf)
    for chapter, lines in EXPECTED.items():
        for line in lines:
            assert line in text[chapter], (chapter, line, text[chapter][:1500])
    flat = re.sub(r"\s+", "", text["TABLES"])
    for word in LONG:
        assert word in flat, word
    log = (built.outdir / "handbook.log").read_text(encoding="utf-8", errors="replace")
    assert "Token not allowed in a PDF string" not in log  # bookmarks are plain text
    from handbook_tools.cli import main

    assert main(["latexlog", str(built.outdir / "handbook.log")]) == 0


@pytest.mark.slow
def test_headings_read_the_same_in_bookmarks_and_links_outside_them_still_work(
        contexts) -> None:
    pypdf = pytest.importorskip("pypdf")
    built, proc = contexts
    assert proc.returncode == 0
    reader = pypdf.PdfReader(built.outdir / "handbook.pdf")

    def titles(items: list) -> list[str]:
        return [t.replace("\u00a0", " ") for i in items  # the fact's no-break space
                for t in (titles(i) if isinstance(i, list) else [i.title])]

    assert f"Troops {FACT} today" in titles(reader.outline)
    uris = {str(a.get_object()["/A"].get("/URI")) for page in reader.pages
            for a in page.get("/Annots") or []
            if a.get_object().get("/A") is not None}
    # the link text keeps its own link; the fact, term and citation inside it print as text
    assert {"https://www.example.org/troops", "https://www.example.org/isf"} <= uris


@pytest.mark.slow
def test_long_words_in_table_cells_stay_inside_the_margin(contexts) -> None:
    built, proc = contexts
    assert proc.returncode == 0
    html = subprocess.run(["pdftotext", "-bbox", str(built.outdir / "handbook.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    past = []
    for page in re.findall(r"<page (.*?)</page>", html, re.S):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        right = width - 72  # Sphinx's default margins: one inch
        for x, word in re.findall(r'xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', page):
            if float(x) > right + 0.5:
                past.append((word, float(x), right))
    assert past == []


@pytest.mark.slow
def test_tex_file_marks_each_block_with_its_page_line(contexts) -> None:
    built, _ = contexts
    tex = (built.outdir / "handbook.tex").read_text(encoding="utf-8")
    assert f"{MARKER}headings.md:3\n" in tex
    assert re.search(rf"{MARKER}headings.md:3\n\s*\\section\{{Troops ", tex)
    assert f"{MARKER}tables.md:3\n" in tex


BROKEN = """\
# Broken

A paragraph.

```{raw} latex
\\hbox{fine}
\\undefinedmacro{x}
```

After.
"""


@pytest.mark.slow
def test_make_pdf_names_the_page_and_line_where_latex_failed(tmp_path: Path) -> None:
    """Raw LaTeX with an undefined command: Sphinx cannot see it, LaTeX stops; ``make pdf``
    says where, with TeX's first error line, and fails."""
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-latex", src)
    (src / "broken.md").write_text(BROKEN, encoding="utf-8")
    index = src / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("sources\n```",
                                                               "sources\nbroken\n```"),
                     encoding="utf-8")
    proc = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "-o", ".venv/bin/.installed",
         "-o", "tools/node_modules/.installed", "pdf", f"DOCS={src}",
         f"BUILD={tmp_path / 'build'}"], env=_env(), capture_output=True, text=True,
        check=False)
    assert proc.returncode != 0
    lines = [line for line in proc.stdout.splitlines() if line.endswith("(latex)")]
    tex = tmp_path / "build" / "latex" / "handbook.tex"
    assert len(lines) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    m = re.fullmatch(rf"{re.escape(str(src))}/broken\.md:5: LaTeX failed in the block that "
                     rf"starts here: Undefined control sequence\. \(TeX's first error, at "
                     rf"{re.escape(str(tex))}:(\d+): l\.(\d+) \\undefinedmacro\) \(latex\)",
                     lines[0])
    assert m, lines[0]
    assert m.group(1) == m.group(2)
    assert tex.read_text(encoding="utf-8").splitlines()[int(m.group(1)) - 1] == \
        "\\undefinedmacro{x}"
    # the message, not the raw log: latexmk's own output stays in its file
    assert "Latexmk:" not in proc.stdout + proc.stderr
    assert f"(the whole log: {tex.with_suffix('.log')})" in proc.stderr


# ---------------------------------------------------------------------------- no LaTeX needed

@pytest.mark.parametrize(("code", "problem"), [
    ("\\textbf{bold}", None),
    ("\\{ escaped braces \\} and 50\\% % a comment with {", None),
    ("\\begin{center}x\\end{center}", None),
    ("\\textbf{open", "1 '{' never closed"),
    ("close}", "a '}' closes no '{'"),
    ("\\begin{center}x", "\\begin{center} is never ended"),
    ("\\begin{center}x\\end{flushleft}", "\\end{flushleft} ends \\begin{center}"),
    ("\\end{center}", "\\end{center} ends no environment"),
])
def test_raw_latex_that_breaks_every_later_page_is_found(code: str,
                                                        problem: str | None) -> None:
    assert raw_latex_problem(code) == problem


TEX = "\\begin{document}\n%\n% handbook-source: history/x.md:12\n\n\\sphinxAtStartPar\n" \
      "\\foo\n%\n% handbook-source: history/x.md:14\nText.\n"


@pytest.mark.parametrize("log", [
    "(./handbook.tex\n! Undefined control sequence.\nl.6 \\foo\n          \n",
    "(./handbook.tex\n./handbook.tex:6: Undefined control sequence.\nl.6 \\foo\n",
])
def test_first_tex_error_maps_to_the_page_line(log: str, tmp_path: Path) -> None:
    tex = tmp_path / "handbook.tex"
    tex.write_text(TEX, encoding="utf-8")
    err = tex_error(log + "! Emergency stop.\n", tex)
    assert err is not None
    assert (err.message, err.tex, err.tex_line, err.context, err.page) == (
        "Undefined control sequence.", "handbook.tex", 6, "l.6 \\foo", "history/x.md:12")


def test_error_in_another_file_names_no_page(tmp_path: Path) -> None:
    tex = tmp_path / "handbook.tex"
    tex.write_text(TEX, encoding="utf-8")
    # on a rerun TeX reads the table of contents: its line 6 is not the .tex file's
    err = tex_error("! Undefined control sequence.\nl.6 \\contentsline {x}\n", tex)
    assert err is not None and err.page is None and err.tex == "?"
    err = tex_error("./handbook.toc:6: Undefined control sequence.\nl.6 \\x\n", tex)
    assert err is not None and err.page is None and err.tex == "handbook.toc"
    assert tex_error("Output written on handbook.pdf (3 pages).\n", tex) is None
