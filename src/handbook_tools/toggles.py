"""The sidebar buttons that sphinx-book-theme shows must open the sidebars.

pydata-sphinx-theme (0.17 and later) puts its own ``.primary-toggle`` and
``.secondary-toggle`` buttons in its navbar, which sphinx-book-theme hides, and binds its
click handlers with ``document.querySelector``: to the first button of each kind only, the
hidden one. sphinx-book-theme's buttons in the article header, the ones readers see, did
nothing: on a phone the table of contents could not be opened (pydata-sphinx-theme issue
2451; sphinx-book-theme pull request 991 fixes the desktop side upstream). A few lines,
inline in every page's head (no extra request), hand a click on any other button of the
kind to the first one, where both themes' handlers listen: on a phone it opens the
sidebar's dialog, on a wide screen it hides or shows the sidebar.
"""

from __future__ import annotations

from sphinx.application import Sphinx

SCRIPT = """document.addEventListener("click", function (e) {
  var b = e.target.closest && e.target.closest(".primary-toggle, .secondary-toggle");
  if (!b) return;
  var first = document.querySelector(
    b.classList.contains("primary-toggle") ? ".primary-toggle" : ".secondary-toggle");
  if (!first || first === b) return;
  e.preventDefault();
  e.stopPropagation();
  first.click();
}, true);"""


def add_toggle_script(app: Sphinx) -> None:
    if app.builder.format == "html":
        app.add_js_file(None, body=SCRIPT)


def setup_toggles(app: Sphinx) -> None:
    app.connect("builder-inited", add_toggle_script)
