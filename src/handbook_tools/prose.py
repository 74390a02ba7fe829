"""Walk the prose of a doctree: text a reader reads, with its source line.

Code, literals, raw output, citations, links, glossary cross-references and rendered facts
are not prose: checks of typed figures and acronyms skip them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from docutils import nodes
from sphinx import addnodes

SKIP = (
    nodes.literal, nodes.literal_block, nodes.raw, nodes.comment, nodes.citation,
    nodes.citation_reference, nodes.reference, nodes.target, nodes.math, nodes.math_block,
    nodes.footnote, nodes.footnote_reference, nodes.substitution_definition,
    addnodes.pending_xref, addnodes.toctree, addnodes.index, addnodes.only,
)


@dataclass
class Chunk:
    text: nodes.Text
    line: int
    in_title: bool


def _skipped(node: nodes.Node) -> bool:
    if isinstance(node, SKIP):
        return True
    if isinstance(node, nodes.Element):
        classes = node.get("classes", [])
        if "hb-fact" in classes or "hb-no-check" in classes:
            return True
        # sphinxcontrib-mermaid's node keeps the diagram's code
        if node.tagname == "mermaid":
            return True
    return False


def line_of(text: nodes.Node) -> int:
    """The source line of a text node: its block's line plus the newlines before it."""
    block = text.parent
    while block is not None and getattr(block, "line", None) is None:
        block = block.parent
    if block is None:
        return 0
    offset = 0
    for t in block.findall(nodes.Text):
        if t is text:
            break
        offset += t.count("\n")
    return int(block.line or 0) + offset


def walk(node: nodes.Node, in_title: bool = False) -> Iterator[nodes.Node | Chunk]:
    """Yield prose chunks and glossary references in document order."""
    if isinstance(node, addnodes.pending_xref) and node.get("reftype") == "term":
        yield node
        return
    if _skipped(node):
        return
    if isinstance(node, nodes.Text):
        yield Chunk(node, line_of(node), in_title)
        return
    title = in_title or isinstance(node, nodes.title | nodes.subtitle | nodes.caption
                                   | nodes.rubric)
    for child in node.children:
        yield from walk(child, title)


def chunks(doctree: nodes.Node) -> Iterator[Chunk]:
    for item in walk(doctree):
        if isinstance(item, Chunk):
            yield item


NUMBER = re.compile(r"(?<![\w.,/-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w,]\d|\w)")


MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
          "December")
NEAR_MONTH = re.compile(rf"(?:\b(?:{MONTHS})\s+$)|(?:^\s+(?:{MONTHS})\b)")


def numbers(text: str) -> Iterator[tuple[str, float]]:
    """Figures in a text; a day of a month ("September 11", "20 March") is a date."""
    for m in NUMBER.finditer(text):
        if "," not in m.group(1) and re.match(r"-[a-z]", text[m.end():m.end() + 2]):
            continue  # a compound modifier: "180-degree", "12-month"
        if NEAR_MONTH.search(text[max(0, m.start() - 12):m.start()]) or NEAR_MONTH.search(
                text[m.end():m.end() + 12]):
            continue
        raw = m.group(1)
        yield raw, float(raw.replace(",", ""))


def is_year(raw: str, value: float) -> bool:
    return "," not in raw and "." not in raw and 1900 <= value <= 2100
