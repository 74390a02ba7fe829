"""A freshness line under each page title: how many facts the page cites, how recent they are.

Readers see at a glance how current a page is without opening the fact register: the
newest and oldest as-of dates of the facts the page cites, and whether any of them is
past its review date on the build's reference date (``HANDBOOK_TODAY``).  The line is
added to HTML-like output only; the PDF carries the full register instead.
"""

from __future__ import annotations

import datetime as dt

from docutils import nodes
from sphinx.application import Sphinx

from .facts import FactDomain
from .registry import Fact
from .state import get_registry, today


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B} {day.year}"


def freshness_line(facts: list[Fact], now: dt.date, register_uri: str | None
                   ) -> nodes.paragraph:
    """``This page cites 12 facts dated March 2003 to January 2026; ...`` as a paragraph."""
    ordered = sorted(facts, key=lambda f: (f.as_of.iso(), f.id))
    oldest, newest = ordered[0].as_of.month_year(), ordered[-1].as_of.month_year()
    span = newest if oldest == newest else f"{oldest} to {newest}"
    due = [f for f in facts if f.is_stale(now)]
    tracked = [f for f in facts if f.review_by is not None]
    para = nodes.paragraph(classes=["hb-freshness"])
    count = f"{len(facts)} fact" + ("" if len(facts) == 1 else "s")
    para += nodes.Text(f"This page cites {count} dated {span}")
    if not tracked:
        para += nodes.Text(", all settled history. ")
    elif due:
        para += nodes.Text("; ")
        para += nodes.strong(text=f"{len(due)} past {'its' if len(due) == 1 else 'their'} "
                                  "review date")
        para += nodes.Text(f" on {_long_date(now)}, marked \u201creview due\u201d. ")
    else:
        para += nodes.Text(f"; none is past its review date on {_long_date(now)}. ")
    if register_uri is not None:
        label = "Sources and dates: fact register"
        para += nodes.reference(label, label, refuri=register_uri, internal=True)
    return para


def add_freshness(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    domain = app.env.get_domain("fact")
    assert isinstance(domain, FactDomain)
    reg = get_registry(app.env)
    ids = sorted({fid for fid, _ in domain.uses.get(docname, [])})
    facts = [reg.facts[i] for i in ids if i in reg.facts]
    section = next(iter(doctree.findall(nodes.section)), None)
    if not facts or section is None or not section.children:
        return
    register = domain.register_doc()
    uri = None if register is None else app.builder.get_relative_uri(docname, register)
    section.insert(1, freshness_line(facts, today(app.env), uri))


def setup_freshness(app: Sphinx) -> None:
    # after the fact register is filled, before other handlers that may read the tree
    app.connect("doctree-resolved", add_freshness, priority=600)
