"""Readers see the evidence: fact cards, and the search horizon.

- **Fact cards.**  Every HTML page that cites facts carries, at its end, one hidden card
  per fact it cites (``<div class="hb-card" id="hb-card-fact-..." hidden>``): the value and
  its as-of date, caveat and dispute, each source's title, publisher and standing, the
  verbatim excerpt (and, when ``make linkcheck`` no longer found it at any of the fact's
  sources, since when), and links to the source and to the register entry.  ``hb-card.js``
  shows the card when a reader hovers over, focuses or taps a cited figure (the link to
  the register, which it stays without JavaScript).  Everything is in the page: no request
  to another host, and it works from ``file://``.  The card is screen-only; on paper the
  register carries the same information.
- **Search horizon.**  ``{search-horizon}`long``` renders ``handbook_search_horizon`` (a date
  ``YYYY-MM-DD`` set once in ``conf.py``): the day up to which sources were searched.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxRole

from .dates import long_date
from .facts import FactDomain, anchor
from .problems import Check, warn
from .publishers import Attribution
from .registry import AsOf, Fact, Registry
from .state import get_attributions, get_registry, today

#: builders whose pages load the card script (not EPUB: readers there ignore scripts)
CARD_BUILDERS = ("html", "dirhtml", "singlehtml")


def card_id(fact_id: str) -> str:
    return "hb-card-" + anchor(fact_id)


def card_html(fact: Fact, reg: Registry, atts: dict[str, Attribution], register_uri: str,
              now: dt.date) -> str:
    """One fact's card: plain HTML, every text escaped."""
    e = escape
    head = f'<strong class="hb-card-value">{e(fact.value)}</strong>, as of {e(fact.as_of.long())}'
    if fact.is_stale(now):
        head += ' <span class="hb-stale-flag">[review due]</span>'
    parts = [f'<p class="hb-card-head">{head}</p>']
    for label, cls, raw in (("Caveat", "hb-caveat", fact.caveat),
                            ("Disputed", "hb-disputed", fact.disputed)):
        text = (raw or "").strip()
        if text:
            parts.append(f'<p class="{cls}"><strong>{label}:</strong> {e(text)}</p>')
    items = []
    for key in fact.sources:
        src = reg.sources.get(key)
        if src is None:
            continue
        title = e(src.fields.get("title", key))
        url = src.archiveurl if src.dead is not None and src.archiveurl else src.url
        link = f'<a href="{e(url, quote=True)}">{title}</a>' if url else title
        if src.dead is not None and src.archiveurl:
            link += " (archived copy)"
        att = atts.get(key)
        if att is not None:
            who = (f'{e(att.who())}, <span class="hb-standing hb-standing-{att.standing}">'
                   f"{att.standing}</span>")
        else:
            who = e(src.fields.get("howpublished") or src.fields.get("author", ""))
        items.append(f"<li>{link}" + (f" <span class=\"hb-card-publisher\">({who})</span>"
                                      if who else "") + "</li>")
    if items:
        parts.append('<ul class="hb-card-sources">' + "".join(items) + "</ul>")
    parts.append(f'<blockquote class="hb-card-excerpt">\u201c{e(fact.excerpt)}\u201d'
                 "</blockquote>")
    if fact.excerpt_gone is not None:  # make linkcheck's finding (link-status.yaml)
        parts.append('<p class="hb-excerpt-gone">This excerpt was no longer found at the '
                     f"source on {e(long_date(fact.excerpt_gone))}: the page may have changed "
                     "since it was cited.</p>")
    parts.append(f'<p class="hb-card-links"><a href="{e(register_uri, quote=True)}">'
                 "Fact register entry</a></p>")
    label = e(f"Evidence for {fact.value}", quote=True)
    return (f'<div class="hb-card" id="{card_id(fact.id)}" role="dialog" '
            f'aria-label="{label}" hidden>' + "".join(parts) + "</div>")


def card_facts(app: Sphinx, docname: str) -> tuple[list[str], str | None]:
    """(ids of the facts a page has cards for, the register's docname)."""
    domain = app.env.get_domain("fact")
    assert isinstance(domain, FactDomain)
    register = domain.register_doc()
    if app.builder.name not in CARD_BUILDERS or register is None:
        return [], None  # without a register facts render as plain text: no card
    reg = get_registry(app.env)
    return sorted({fid for fid, _ in domain.uses.get(docname, []) if fid in reg.facts}), \
        register


def add_cards(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    ids, register = card_facts(app, docname)
    if not ids or register is None:
        return
    reg = get_registry(app.env)
    atts = get_attributions(app.env)
    base = app.builder.get_relative_uri(docname, register)
    now = today(app.env)
    cards = "".join(card_html(reg.facts[i], reg, atts, f"{base}#{anchor(i)}", now)
                    for i in ids)
    doctree += nodes.raw("", f'<div class="hb-cards">{cards}</div>\n', format="html")


def add_card_script(app: Sphinx, pagename: str, templatename: str, context: dict,
                    doctree: nodes.document | None) -> None:
    """The card script, on pages that have cards only."""
    if doctree is not None and card_facts(app, pagename)[0]:
        app.add_js_file("hb-card.js", loading_method="defer")


class SearchHorizonRole(SphinxRole):
    """``{search-horizon}`long``` ('3 December 2026') or ``{search-horizon}`iso```
    ('2026-12-03'), from ``handbook_search_horizon``."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        raw = str(self.config.handbook_search_horizon).strip()
        form = self.text.strip()
        if form not in ("long", "iso"):
            warn(Check.SCHEMA, f"{{search-horizon}}`{form}`: write `long` (3 December 2026) or "
                 "`iso` (2026-12-03)", self.get_location())
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            warn(Check.SCHEMA, f"handbook_search_horizon {raw!r} in conf.py is not a date "
                 "YYYY-MM-DD: set it to the last day sources were searched", self.get_location())
            return [nodes.inline(self.rawtext, "[search horizon not set]")], []
        text = day.isoformat() if form == "iso" else AsOf(day.year, day.month, day.day).long()
        return [nodes.inline(self.rawtext, text, classes=["hb-search-horizon"])], []


def setup_standing(app: Sphinx) -> None:
    app.add_config_value("handbook_search_horizon", "", "env", str)
    app.add_role("search-horizon", SearchHorizonRole())
    app.connect("doctree-resolved", add_cards)
    app.connect("html-page-context", add_card_script)
