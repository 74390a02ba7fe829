"""Walk the prose of a doctree: text a reader reads, with its source line.

Code, literals, raw output, citations, links, glossary cross-references and rendered facts
are not prose: checks of typed figures and acronyms skip them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from docutils import nodes
from sphinx import addnodes

SKIP = (
    nodes.literal, nodes.literal_block, nodes.raw, nodes.comment, nodes.citation,
    nodes.citation_reference, nodes.reference, nodes.target, nodes.math, nodes.math_block,
    nodes.footnote, nodes.footnote_reference, nodes.substitution_definition,
    addnodes.pending_xref, addnodes.toctree, addnodes.index, addnodes.only,
    # a parser's message (at doctree-read, before Sphinx filters them out) is not prose
    nodes.system_message,
)


@dataclass
class Chunk:
    text: str  #: a ``nodes.Text`` while walking a tree; plain ``str`` once recorded
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


def line_of(text: nodes.Node, offsets: dict[int, dict[int, int]] | None = None) -> int:
    """The source line of a text node: its block's line plus the newlines before it.
    ``offsets`` keeps, per block, each text node's newline offset, so a walk counts each
    block's newlines once (not once per text node: that was quadratic in long blocks)."""
    block = text.parent
    while block is not None and getattr(block, "line", None) is None:
        block = block.parent
    if block is None:
        return 0
    table = None if offsets is None else offsets.get(id(block))
    if table is None:
        table, offset = {}, 0
        for t in block.findall(nodes.Text):
            table[id(t)] = offset
            offset += t.count("\n")
        if offsets is not None:
            offsets[id(block)] = table
    return int(block.line or 0) + table.get(id(text), 0)


def walk(node: nodes.Node, in_title: bool = False,
         _offsets: dict[int, dict[int, int]] | None = None) -> Iterator[nodes.Node | Chunk]:
    """Yield prose chunks and glossary references in document order."""
    if _offsets is None:
        _offsets = {}
    if isinstance(node, addnodes.pending_xref) and node.get("reftype") == "term":
        yield node
        return
    if _skipped(node):
        return
    if isinstance(node, nodes.Text):
        yield Chunk(node, line_of(node, _offsets), in_title)
        return
    title = in_title or isinstance(node, nodes.title | nodes.subtitle | nodes.caption
                                   | nodes.rubric)
    for child in node.children:
        yield from walk(child, title, _offsets)
