"""Markup that accessibility checkers (axe, Lighthouse) flag, fixed in the built pages.

docutils writes each bibliography entry as ``<div role="doc-biblioentry">`` inside a
``<div role="list">``. DPUB-ARIA 1.1 deprecates ``doc-biblioentry`` and ARIA allows only
``listitem`` children in a list, so every entry of the sources page was reported
(``aria-deprecated-role``, ``aria-allowed-role``, ``aria-required-children``; Lighthouse's
accessibility score 92). The entries become ``role="listitem"``: a screen reader still
announces a list of n entries. (The search button's name is fixed by the template
``docs/_templates/search-button-field.html``.)
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

BIBLIOENTRY = ' role="doc-biblioentry"'


def fix_roles(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
              doctree: Any) -> None:
    body = context.get("body")
    if isinstance(body, str) and BIBLIOENTRY in body:
        context["body"] = body.replace(BIBLIOENTRY, ' role="listitem"')


def setup_aria(app: Sphinx) -> None:
    app.connect("html-page-context", fix_roles)
