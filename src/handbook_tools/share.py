"""What a shared link shows: each page's description is its first paragraph.

sphinxext-opengraph writes the page's ``<meta name="description">`` and ``og:description``
from the first text of its doctree. The first paragraph under a page title, though, is the
freshness line the handbook adds (freshness.py: "This page cites 12 facts ..."), which says
nothing about the page. By the time of ``html-page-context`` the page's body is already
written, so the handler below, run before sphinxext-opengraph's, takes that line out of
the (no longer used) doctree: the description starts with the page's own first paragraph.

sphinxext-opengraph takes ``og:title`` from the page context's title, which in a numbered
book starts with the section number (``<span class="section-number">2.1. </span>The 2003
invasion ...``): a number that means nothing in a shared link. The handlers below hand it
the title without that number, then put the number back for the page's own ``<title>``.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

#: the class of the freshness line (freshness.freshness_line)
FRESHNESS = "hb-freshness"


def drop_freshness_line(app: Sphinx, pagename: str, templatename: str,
                        context: dict[str, Any], doctree: nodes.document | None) -> None:
    if doctree is None:
        return
    for para in list(doctree.findall(nodes.paragraph)):
        if FRESHNESS in para["classes"] and para.parent is not None:
            para.parent.remove(para)


#: the section number Sphinx's HTML writer puts at the start of a numbered page's title
SECTION_NUMBER = re.compile(r'^<span class="section-number">[^<]*</span>')


def unnumbered_title(app: Sphinx, pagename: str, templatename: str,
                     context: dict[str, Any], doctree: nodes.document | None) -> None:
    title = context.get("title")
    if isinstance(title, str) and SECTION_NUMBER.match(title):
        context[NUMBERED_TITLE] = title
        context["title"] = SECTION_NUMBER.sub("", title, count=1)


def renumbered_title(app: Sphinx, pagename: str, templatename: str,
                     context: dict[str, Any], doctree: nodes.document | None) -> None:
    if NUMBERED_TITLE in context:
        context["title"] = context.pop(NUMBERED_TITLE)


#: where the numbered title waits while sphinxext-opengraph reads the plain one
NUMBERED_TITLE = "hb_numbered_title"


def setup_share(app: Sphinx) -> None:
    # before sphinxext-opengraph's handler (default priority 500) reads the doctree
    app.connect("html-page-context", drop_freshness_line, priority=450)
    # around it: og:title without the section number; <title> keeps it
    app.connect("html-page-context", unnumbered_title, priority=451)
    app.connect("html-page-context", renumbered_title, priority=550)
