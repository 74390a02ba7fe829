"""The ``{chronology}`` directive: a dated table generated from the registry.

Every fact with a ``chronology:`` line becomes a row, oldest first; the row's fact cell is
a ``{fact:value}`` reference, so each event links to its register entry and its source.
Because the table is written in MyST (a backtick fence, so no MyST extension is needed)
and parsed in place, the page must be a MyST page.
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .state import registry_for_page


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


class ChronologyDirective(SphinxDirective):
    """``{chronology}`` with optional ``:from:`` and ``:to:`` years."""

    has_content = False
    option_spec = {"from": directives.nonnegative_int, "to": directives.nonnegative_int}

    def run(self) -> list[nodes.Node]:
        reg = registry_for_page(self.env)
        first = self.options.get("from", 0)
        last = self.options.get("to", 9999)
        facts = sorted((f for f in reg.facts.values()
                        if f.chronology and first <= f.as_of.year <= last),
                       key=lambda f: (f.as_of, f.id))
        if not facts:  # a table needs a body row: say there is nothing instead
            return [nodes.paragraph(text="No dated events in the register for this period.")]
        lines = ["```{list-table}", ":header-rows: 1", ":widths: 18 52 30",
                 ":class: hb-chronology hb-no-check", "",
                 "* - Date", "  - Event", "  - Fact and source"]
        for fact in facts:
            date = fact.as_of.long()
            lines += [f"* - {date}", f"  - {_cell(fact.chronology or '')}",
                      f"  - {{fact:value}}`{fact.id}`"]
        lines.append("```")
        return self.parse_text_to_nodes("\n".join(lines))


def setup_chronology(app: Sphinx) -> None:
    app.add_directive("chronology", ChronologyDirective)
