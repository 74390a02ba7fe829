"""The fact register: ``{fact-register}`` makes one table of every fact or, with content,
one section per fact file (``history: Title``, in the reader's order); each table is filled
once every page has been read, with value, as-of date, review status, sources and the
pages that use each fact. In HTML each table sits in a block the browser skips while it is
off screen (``hb-register-part``, handbook.css).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

from .facts import FactDomain, anchor, excerpt_gone_notice
from .problems import Check, warn
from .publishers import Attribution, best_standing
from .registry import Fact, Registry, fact_files, suggest
from .state import data_dir, get_attributions, get_registry, registry_for_page, today


class fact_register(nodes.General, nodes.Element):
    """Placeholder replaced by a register table once every page has been read: every fact,
    or (``topic``) the facts of one fact file."""


#: a line of the register's content: ``<fact file name>: <section title>``
TOPIC_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*:\s*(\S.*?)\s*$")


class FactRegisterDirective(SphinxDirective):
    """``{fact-register}``: one table of every fact; or, with content, one section per fact
    file, in the order of the content's lines ``history: Title of the section``."""

    has_content = True
    option_spec = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        domain = self.env.get_domain("fact")
        assert isinstance(domain, FactDomain)
        domain.registers[self.env.docname] = True
        reg = registry_for_page(self.env)
        if not self.content:
            return [fact_register("")]
        return [self.section(stem, title) for stem, title in self.topics(reg)]

    def topics(self, reg: Registry) -> list[tuple[str, str]]:
        """(fact file name, title) in the reader's order; a fact file the content does not
        name is warned about and listed last under its file name, never left out."""
        files = {path.stem: path for path in fact_files(data_dir(self.env))}
        files.update((Path(f.path).stem, Path(f.path)) for f in reg.facts.values())
        topics: list[tuple[str, str]] = []
        for offset, line in enumerate(self.content):
            if not line.strip():
                continue
            where = (self.env.docname, self.content_line(offset))
            match = TOPIC_LINE.match(line)
            if match is None:
                warn(Check.REGISTER, f"register section {line.strip()!r}: write the fact "
                     "file's name, a colon and the section's title, such as "
                     "'history: The invasion, 2003'", where)
                continue
            stem, title = match.groups()
            if stem not in files:
                warn(Check.REGISTER, f"register section {stem!r}: no fact file "
                     f"{stem}.yaml in {self.config.handbook_data_dir}/facts"
                     f"{suggest(stem, files)}", where)
            elif any(stem == done for done, _ in topics):
                warn(Check.REGISTER, f"register section {stem!r} is given twice", where)
            else:
                topics.append((stem, title))
        for stem in sorted(set(files) - {done for done, _ in topics}):
            warn(Check.REGISTER, f"fact file {files[stem]} has no section in the register: "
                 f"add a line '{stem}: <title>' to the {{fact-register}} directive (its "
                 f"facts are listed under '{stem}' until then)", self.get_location())
            topics.append((stem, stem))
        return topics

    def content_line(self, index: int) -> int:
        """The line in the page of the content's line ``index``: MyST gives the offset of
        the content from the directive's line, docutils its place in the page."""
        if type(self.state).__module__.startswith("myst_parser"):
            return self.lineno + 1 + self.content_offset + index
        return self.content_offset + index + 1

    def section(self, stem: str, title: str) -> nodes.section:
        """A real section (the page's table of contents and the PDF number it), read now;
        its table is filled in once every page has been read."""
        section = nodes.section(ids=[nodes.make_id("facts-" + stem)],
                                names=[nodes.fully_normalize_name(title)])
        section += nodes.title(title, title)
        section += fact_register("", topic=stem)
        return section


def _source_cell(reg: Registry, keys: list[str], atts: dict[str, Attribution]
                 ) -> nodes.paragraph:
    para = nodes.paragraph()
    for i, key in enumerate(keys):
        if i:
            para += nodes.Text("; ")
        src = reg.sources.get(key)
        if src is None:
            para += nodes.Text(key)
            continue
        title = src.fields.get("title", key)
        para += nodes.reference(title, title, refuri=src.url)
        att = atts.get(key)
        if att is not None:
            para += nodes.Text(f" ({att.who()}, ")
            para += nodes.inline("", att.standing, classes=[f"hb-standing-{att.standing}"])
            para += nodes.Text(")")
            continue
        who = src.fields.get("howpublished") or src.fields.get("author", "")
        if who:
            para += nodes.Text(f" ({who})")
    return para


def _id_cell(fact_id: str, fmt: str) -> nodes.Node:
    """The fact id as code; in LaTeX it may also break after '-' (Sphinx breaks inline
    code only after '.', ',' and the like), so long ids fit the register's first column."""
    if fmt != "latex" or not re.fullmatch(r"[A-Za-z0-9._-]+", fact_id):
        return nodes.literal(fact_id, fact_id)
    code = fact_id.replace("-", "-\\allowbreak{}")
    return nodes.raw("", f"\\sphinxcode{{\\sphinxupquote{{{code}}}}}", format="latex")


def _value_notes(fact: Fact) -> list[nodes.paragraph]:
    """The caveat and the dispute under a value in the register."""
    out = []
    for label, cls, text in (("Caveat", "hb-caveat", fact.caveat),
                             ("Disputed", "hb-disputed", fact.disputed)):
        text = (text or "").strip()
        if text:
            para = nodes.paragraph(classes=[cls])
            para += nodes.strong(text=f"{label}: ")
            para += nodes.Text(text)
            out.append(para)
    return out


def topic_of(fact: Fact) -> str:
    """The fact file a fact comes from, by name (``history`` for ``facts/history.yaml``)."""
    return Path(fact.path).stem


def build_register(app: Sphinx, docname: str, topic: str | None = None) -> nodes.table:
    """The register table: every fact, or those of the fact file named ``topic``."""
    reg = get_registry(app.env)
    domain = app.env.get_domain("fact")
    assert isinstance(domain, FactDomain)
    now = today(app.env)
    atts = get_attributions(app.env)
    headers = ["Fact", "Value", "As of", "Status", "Sources", "Used on"]
    table = nodes.table(classes=["hb-register", "colwidths-given"])  # wrap in LaTeX
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in (16, 16, 10, 10, 32, 16):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for h in headers:
        row += nodes.entry("", nodes.paragraph(text=h))
    head += row
    body = nodes.tbody()
    group += body
    html = app.builder.format == "html"

    def cell(*paragraphs: nodes.Element) -> nodes.entry:
        """A table cell; in HTML, one paragraph is written without its ``<p>`` (about a
        fifth of the register's elements: fewer for the browser to parse and style)."""
        if html and len(paragraphs) == 1 and not paragraphs[0]["classes"]:
            return nodes.entry("", cell_text("", "", *paragraphs[0].children))
        return nodes.entry("", *paragraphs)

    facts = [f for f in reg.facts.values() if topic is None or topic_of(f) == topic]
    for fact in sorted(facts, key=lambda f: f.id):
        row = nodes.row()
        idp = nodes.paragraph()
        if html:  # the row holds the anchor: one element less a row
            row["ids"] = [anchor(fact.id)]
        else:
            idp += nodes.target("", "", ids=[anchor(fact.id)])  # the LaTeX label
        idp += _id_cell(fact.id, app.builder.format)
        row += cell(idp)
        row += cell(nodes.paragraph(text=fact.value), *_value_notes(fact))
        row += cell(nodes.paragraph(text=fact.as_of.long()))
        status = fact.status(now)
        review = "" if fact.review_by is None else f" (review by {fact.review_by.isoformat()})"
        stat = nodes.paragraph()
        stat += nodes.inline(status, status, classes=[f"hb-status-{status.replace(' ', '-')}"])
        stat += nodes.Text(review)
        best = best_standing(fact, atts) if atts else None
        if best is None:
            row += cell(stat)
        else:
            para = nodes.paragraph(classes=["hb-best-standing"])
            para += nodes.Text("best source: ")
            para += nodes.inline("", best, classes=[f"hb-standing-{best}"])
            row += cell(stat, para)
        src = _source_cell(reg, fact.sources, atts)
        quote = nodes.paragraph(classes=["hb-excerpt"])
        quote += nodes.emphasis(text=f"\u201c{fact.excerpt}\u201d")
        row += cell(src, quote, *excerpt_gone_notice(fact))
        used = nodes.paragraph()
        for i, doc in enumerate(domain.pages_using(fact.id)):
            if i:
                used += nodes.Text(", ")
            title = app.env.titles.get(doc)
            label = title.astext() if title else doc
            used += make_refnode(app.builder, docname, doc, None, nodes.Text(label))
        row += cell(used)
        body += row
    return table


class register_table(nodes.table):
    """A register table in HTML, in its own block (``hb-register-part``, handbook.css) that
    the browser may skip while it is off screen: a table row cannot be skipped alone."""


class cell_text(nodes.paragraph):
    """The one paragraph of a register cell in HTML, written without its ``<p>``."""


def visit_cell_text(self: Any, node: cell_text) -> None:
    pass


#: the block pydata-sphinx-theme puts every table in; its script reads the scroll width
#: of each on load, which makes the browser lay out even the blocks it could skip
THEME_TABLE_BOX = '<div class="pst-scrollable-table-container">'


def visit_register_table(self: Any, node: register_table) -> None:
    rows = sum(len(body) for body in node.findall(nodes.tbody))
    self.body.append(f'<div class="hb-register-part" style="--hb-rows: {rows}">')
    start = len(self.body)
    self.visit_table(node)
    if THEME_TABLE_BOX in self.body[start:]:  # the block scrolls sideways itself
        del self.body[self.body.index(THEME_TABLE_BOX, start)]
        node["hb-theme-box"] = True


def depart_register_table(self: Any, node: register_table) -> None:
    self.depart_table(node)  # with the theme: closes our block, in place of its own
    if not node.get("hb-theme-box"):
        self.body.append("</div>\n")


def fill_registers(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(fact_register)):
        table = build_register(app, docname, node.get("topic"))
        if app.builder.format == "html":
            table = register_table("", *table.children, **table.attributes)
        node.replace_self(table)


def setup_register(app: Sphinx) -> None:
    app.add_node(fact_register)
    app.add_node(register_table, html=(visit_register_table, depart_register_table))
    app.add_node(cell_text, html=(visit_cell_text, visit_cell_text))
    app.add_directive("fact-register", FactRegisterDirective)
    app.connect("doctree-resolved", fill_registers)
