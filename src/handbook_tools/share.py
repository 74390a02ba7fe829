"""What a shared link shows: each page's description is its first paragraph.

sphinxext-opengraph writes the page's ``<meta name="description">`` and ``og:description``
from the first text of its doctree. The first paragraph under a page title, though, is the
freshness line the handbook adds (freshness.py: "This page cites 12 facts ..."), which says
nothing about the page. By the time of ``html-page-context`` the page's body is already
written, so the handler below, run before sphinxext-opengraph's, takes that line out of
the (no longer used) doctree: the description starts with the page's own first paragraph.
"""

from __future__ import annotations

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


def setup_share(app: Sphinx) -> None:
    # before sphinxext-opengraph's handler (default priority 500) reads the doctree
    app.connect("html-page-context", drop_freshness_line, priority=450)
