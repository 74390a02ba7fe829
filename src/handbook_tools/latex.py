"""The PDF: markup that HTML takes but LaTeX does not, and LaTeX errors named by page and line.

Links inside *moving arguments* break LaTeX or mislead: a section title is also written
to the table of contents, the PDF bookmarks and the running heads, a caption to the list
of figures.  sphinxcontrib-bibtex's ``\\hyperlink`` there stops the build ("Undefined
control sequence", ``\\Hy@reserved@a``); hyperref's ``\\hyperref`` survives but makes a
link inside the contents entry's own link, and in link text a link inside a link.  The
project's roles (``{fact}``, ``{fact:value}``, ``{fact:date}``, ``{term}`` and
``{cite:p}``) all render as links, so after references are resolved
:class:`LaTeXContexts` keeps, in headings, captions and link text, their text and drops
their links: a heading reads "Troops about 2,500 (as of September 2024) [1]" in the PDF as
on the web page; the body text keeps every link.  Glossary terms, table cells, footnotes
and admonition titles take links as they are.  Long words in table cells (URLs, ids) get
line-break opportunities.

Raw LaTeX whose braces or environments do not balance would break every page after it:
it is reported at the page's line before LaTeX runs, as a warning of type ``handbook`` and
subtype ``latex`` (:attr:`Check.LATEX`).

When LaTeX fails anyway (raw LaTeX in a ``{raw} latex`` block, a package problem), the
``.tex`` file says where each block came from: before every block the translator writes a
comment ``% handbook-source: history/invasion.md:12`` (the page relative to the Sphinx
source folder).  ``python -m handbook_tools latexlog`` maps TeX's first error back to the
nearest marker above the failing ``.tex`` line (:func:`tex_error`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.writers.latex import LaTeXTranslator

from .problems import Check, Problem, warn

#: the class of the front matter's edition page (edition.FRONT_MATTER)
FRONT_MATTER = "hb-front-matter"

#: the comment written before each block of the ``.tex`` file
MARKER = "% handbook-source: "
MARKER_RE = re.compile(r"^% handbook-source: (?P<path>.+):(?P<line>\d+)$")


# --------------------------------------------------------------------------- unlinking

def _is_raw_link(node: nodes.Node) -> bool:
    """sphinxcontrib-bibtex's ``\\hyperlink{cite...}{`` and ``}`` around a citation label."""
    if node.tagname != "raw_latex":
        return False
    raw = node.rawsource if isinstance(node, nodes.Element) else ""
    return raw == "}" or (raw.startswith("\\hyperlink{") and raw.endswith("{"))


def unlink(container: nodes.Element) -> None:
    """Replace every link inside ``container`` by its text (and keep its look)."""
    for node in list(container.findall(nodes.Element, include_self=False)):
        if node.parent is None:
            continue
        if isinstance(node, nodes.reference | addnodes.pending_xref):
            node.replace_self(node.children)
        elif _is_raw_link(node):
            node.parent.remove(node)


def moving_argument(node: nodes.Element) -> str | None:
    """What LaTeX does with this node's text if it cannot hold a link, else None."""
    parent = node.parent
    if isinstance(node, nodes.title) and isinstance(parent, nodes.section):
        return "section heading"
    if isinstance(node, nodes.title) and isinstance(parent, nodes.table):
        return "table caption"
    if isinstance(node, nodes.caption):
        return "caption"
    if isinstance(node, nodes.reference) and node.get("refuri") and any(
            isinstance(n, nodes.reference) or _is_raw_link(n)
            for n in node.findall(include_self=False)):
        return "link text"
    return None


#: a "word" this long in a table cell is a URL, a path or an id, not prose: it may break
LONG_WORD = re.compile(r"\S{25,}")
#: break after these characters of a long word (a URL's "/", an id's "." or "-")
BREAK_AFTER = re.compile(r"(?<=[/.:_?&=#,;~@-])(?=.)")


def breakable(text: str) -> list[nodes.Node]:
    """Text with a LaTeX line-break opportunity in each long word (none in prose)."""
    out: list[nodes.Node] = []
    pos = 0
    for m in LONG_WORD.finditer(text):
        pieces = BREAK_AFTER.split(m.group(0))
        # a run of letters and digits still too long (a hash) may break every 12
        pieces = [p[i:i + 12] for p in pieces for i in range(0, len(p), 12)]
        out.append(nodes.Text(text[pos:m.start()]))
        for i, piece in enumerate(pieces):
            if i:
                out.append(nodes.raw("", "\\allowbreak{}", format="latex"))
            out.append(nodes.Text(piece))
        pos = m.end()
    out.append(nodes.Text(text[pos:]))
    return [n for n in out if not isinstance(n, nodes.Text) or n.astext()]


def wrap_long_words(entry: nodes.entry) -> None:
    """Let URLs and ids typed in a table cell wrap instead of running off the page."""
    for text in list(entry.findall(nodes.Text)):
        parent = text.parent
        if parent is None or not LONG_WORD.search(text.astext()):
            continue
        above: nodes.Element | None = parent
        while above is not None and above is not entry:
            if isinstance(above, nodes.literal | nodes.reference | nodes.raw
                          | nodes.FixedTextElement):
                break
            above = above.parent
        else:
            parent.replace(text, breakable(text.astext()))


class LaTeXContexts(SphinxPostTransform):
    """Plain text instead of links where LaTeX cannot hold one, and long words in table
    cells that may wrap (see the module's doc)."""

    builders = ("latex",)
    default_priority = 450  # after references (and citations) are resolved

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(nodes.Element)):
            if moving_argument(node):
                unlink(node)
        for entry in list(self.document.findall(nodes.entry)):
            wrap_long_words(entry)


# --------------------------------------------------------------------------- source markers

class HandbookLaTeXTranslator(LaTeXTranslator):
    """Sphinx's LaTeX translator, writing ``% handbook-source: page:line`` before blocks."""

    def __init__(self, document: nodes.document, builder: Any, theme: Any) -> None:
        super().__init__(document, builder, theme)
        self._srcdir = Path(builder.srcdir).resolve()
        self._last_marker = ""
        self._front_start: list[int] = []
        self._front_matter: list[str] = []

    # The edition page of the front matter (edition.front_matter): written like any block,
    # then taken out of the body and set on the back of the title page, through Sphinx's
    # \sphinxbackoftitlepage hook, in a box (its BibTeX is verbatim: no macro can hold it).
    def visit_container(self, node: nodes.Element) -> None:
        if FRONT_MATTER in node["classes"]:
            self._front_start.append(len(self.body))
        super().visit_container(node)

    def depart_container(self, node: nodes.Element) -> None:
        super().depart_container(node)
        if FRONT_MATTER in node["classes"] and self._front_start:
            start = self._front_start.pop()
            self._front_matter += self.body[start:]
            del self.body[start:]

    def astext(self) -> str:
        if self._front_matter:
            self.elements["maketitle"] = (
                "\\newsavebox{\\hbeditionbox}%\n"
                "\\begin{lrbox}{\\hbeditionbox}\\begin{minipage}{\\textwidth}\\small"
                "\\fvset{fontsize=\\footnotesize}%\n"
                + "".join(self._front_matter)
                + "\n\\end{minipage}\\end{lrbox}%\n"
                "\\def\\sphinxbackoftitlepage{\\noindent\\usebox{\\hbeditionbox}}%\n"
                + self.elements["maketitle"])
        return super().astext()

    def _source_of(self, node: nodes.Element) -> str | None:
        source, line = node.source, node.line
        if not source or not line:
            return None
        try:
            rel = Path(source).resolve().relative_to(self._srcdir).as_posix()
        except ValueError:
            return None
        return f"{rel}:{line}"

    def dispatch_visit(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Element) and self._starts_block(node):
            where = self._source_of(node)
            if where and where != self._last_marker:
                self._last_marker = where
                # "%" ends the line with no space token; then the marker, a whole comment
                self.body.append(f"%\n{MARKER}{where}\n")
        super().dispatch_visit(node)

    def _starts_block(self, node: nodes.Element) -> bool:
        if self.in_parsed_literal or self.in_title or self.in_caption or self.in_term:
            return False
        if not self.body:  # the start of a table cell: Sphinx trims the line breaks there
            return False
        if isinstance(node, nodes.raw):  # a raw block, not raw text inside a paragraph
            return not isinstance(node.parent, nodes.TextElement)
        return (isinstance(node, nodes.Body | nodes.section | nodes.title)
                and not isinstance(node, nodes.Inline))


# --------------------------------------------------------------------------- the log

@dataclass(frozen=True)
class TexError:
    """TeX's first error, where TeX stopped in the ``.tex`` file, and the page line."""

    message: str  #: "Undefined control sequence."
    tex: str  #: the file TeX was reading ("handbook.tex", or "handbook.toc" on a rerun)
    tex_line: int  #: 0 when TeX gave none
    context: str  #: TeX's "l.86 \\undefinedmacro" line: what it read up to the error
    page: str | None  #: ``history/x.md:12``: the nearest source marker above ``tex_line``


#: an error line with ``-file-line-error``: "./handbook.tex:86: Undefined control sequence."
FILE_LINE_ERROR = re.compile(r"^(?P<file>\S+?\.[a-z]{2,4}):(?P<line>\d+): (?P<msg>.*)$")
CONTEXT = re.compile(r"^l\.(?P<line>\d+) ?(?P<text>.*)$")


def tex_error(log_text: str, tex: Path) -> TexError | None:
    """The first error of a LaTeX log, mapped to the page and line the ``.tex`` file's
    source markers give; ``tex`` is the main ``.tex`` file the log is of."""
    lines = log_text.splitlines()
    for i, raw in enumerate(lines):
        m = FILE_LINE_ERROR.match(raw)
        if m:
            message, file, line = m["msg"], Path(m["file"]).name, int(m["line"])
        elif raw.startswith("! "):
            message, file, line = raw[2:], "", 0
        else:
            continue
        context = ""
        for follow in lines[i + 1:i + 40]:
            c = CONTEXT.match(follow)
            if c:
                context = follow.rstrip()
                if not line:
                    line = int(c["line"])
                    # without -file-line-error the log does not say which file TeX was
                    # reading: the main file only if its line holds what TeX read
                    file = tex.name if _line_holds(tex, line, c["text"]) else ""
                break
            if follow.startswith("! ") or FILE_LINE_ERROR.match(follow):
                break
        page = page_of(tex, line) if file == tex.name and line else None
        return TexError(message.strip(), file or "?", line, context, page)
    return None


def _line_holds(tex: Path, line: int, read: str) -> bool:
    try:
        text = tex.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    read = read.removeprefix("...").strip()
    return 0 < line <= len(text) and read in text[line - 1]


def page_of(tex: Path, line: int) -> str | None:
    """The page and line of the nearest source marker at or above a ``.tex`` line."""
    try:
        text = tex.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for raw in reversed(text[:line]):
        m = MARKER_RE.match(raw)
        if m:
            return f"{m['path']}:{m['line']}"
    return None


def tex_error_problem(log: Path, docs: str) -> Problem | None:
    """The log's first error as a problem at its page's line (or the ``.tex`` line)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    err = tex_error(text, log.with_suffix(".tex"))
    if err is None:
        return None
    where = f"{err.tex}:{err.tex_line}" if err.tex_line else err.tex
    said = f"{err.message} (TeX's first error, at {log.parent / where}"
    said += f": {err.context})" if err.context else ")"
    if err.page is None:
        return Problem(str(log), 0, f"LaTeX failed: {said}; no page is marked above it",
                       Check.LATEX)
    path, _, line = err.page.rpartition(":")
    return Problem(str(Path(docs) / path), int(line),
                   f"LaTeX failed in the block that starts here: {said}", Check.LATEX)


# --------------------------------------------------------------------------- raw LaTeX

def raw_latex_problem(code: str) -> str | None:
    """What in a raw LaTeX snippet would break every page after it, or None: a brace or
    environment left open or closed twice.  (An undefined command can only be found by
    LaTeX: the log's error is then mapped back to the page.)"""
    depth = 0
    envs: list[str] = []
    for line in code.splitlines():
        i = 0
        while i < len(line):
            ch = line[i]
            if ch == "\\":
                m = re.match(r"\\(begin|end)\{([^{}]*)\}", line[i:])
                if m and m[1] == "begin":
                    envs.append(m[2])
                elif m:
                    if not envs:
                        return f"\\end{{{m[2]}}} ends no environment"
                    if envs[-1] != m[2]:
                        return f"\\end{{{m[2]}}} ends \\begin{{{envs[-1]}}}"
                    envs.pop()
                i += len(m[0]) if m else 2
                continue
            if ch == "%":
                break
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth < 0:
                    return "a '}' closes no '{'"
            i += 1
    if depth:
        return f"{depth} '{{' never closed"
    if envs:
        return f"\\begin{{{envs[-1]}}} is never ended"
    return None


def check_raw_latex(app: Sphinx, doctree: nodes.document) -> None:
    if not app.config.handbook_checks:
        return
    for node in doctree.findall(nodes.raw):
        if "latex" not in node.get("format", "").split():
            continue
        what = raw_latex_problem(node.astext())
        if what:
            warn(Check.LATEX, f"raw LaTeX would break the PDF from here on: {what} (the HTML "
                 "ignores raw LaTeX; only the PDF fails)", node)


# --------------------------------------------------------------------------- set-up

def use_latex_translator(app: Sphinx) -> None:
    if app.builder.format == "latex":
        app.set_translator(app.builder.name, HandbookLaTeXTranslator, override=True)


def setup_latex(app: Sphinx) -> None:
    app.add_post_transform(LaTeXContexts)
    # set once the builder is known, for LaTeX builds only: a translator registered at
    # set-up makes pydata-sphinx-theme wrap only the registered ones, so the HTML pages
    # lost its Bootstrap translator (aria-level on toctree captions, table classes)
    app.connect("builder-inited", use_latex_translator)
    app.connect("doctree-read", check_raw_latex)
