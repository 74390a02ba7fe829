"""Sphinx extension of the Iraq handbook: facts, glossary checks, diagrams, charts, links.

Enable it with ``extensions = ["handbook_tools"]``.  Every warning it emits goes through
:func:`handbook_tools.problems.warn`: its type is ``handbook``, its subtype a
:class:`~handbook_tools.problems.Check` (the module map: CONTRIBUTING.md, "Architecture").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing the package (its CLI) must not import Sphinx
    from sphinx.application import Sphinx

__version__ = "0.1.0"


def setup(app: Sphinx) -> dict[str, Any]:
    from .aria import setup_aria
    from .bibstyle import setup_bibstyle
    from .changes import setup_changes
    from .chart import setup_chart
    from .chronology import setup_chronology
    from .compress import setup_compress
    from .downloads import setup_downloads
    from .edition import setup_edition
    from .epub import setup_epub
    from .facts import setup_facts
    from .freshness import setup_freshness
    from .glossary import setup_glossary
    from .icons import setup_icons
    from .latex import setup_latex
    from .links import setup_links
    from .mermaid import setup_mermaid
    from .missions import setup_missions
    from .pagechecks import setup_pagechecks
    from .purge import setup_purge
    from .scenarios import setup_scenarios
    from .share import setup_share
    from .standing import setup_standing
    from .state import load_data
    from .toggles import setup_toggles

    app.setup_extension("sphinxcontrib.bibtex")
    app.add_config_value("handbook_data_dir", "_data", "env", str)
    app.add_config_value("handbook_today", "", "env", str)
    app.add_config_value("handbook_acronym_allowlist", [], "env", list)
    app.add_config_value("handbook_cache_dir", "", "env", str)
    # the node packages' folder (npm ci in tools/), relative to conf.py: see .nodepackages
    app.add_config_value("handbook_node_modules", "", "", str)
    app.add_config_value("handbook_chromium", "/usr/bin/chromium", "", str)
    # Checks (Check values, such as "weak-only") reported as notes that do not fail the
    # build, while content catches up with a new rule; empty for a finished book.
    app.add_config_value("handbook_advisory_checks", [], "env", list)
    # Switches for the benchmark's stock baseline (tools/bench.py); both on for the book.
    # False: no glossary, unused-fact, stale-fact, alt-text or built-link checks.
    app.add_config_value("handbook_checks", True, "env", bool)
    # False: sphinxcontrib-mermaid's own output (client-side mermaid from its CDN in HTML,
    # one mermaid-cli process per diagram in LaTeX) instead of the batched inline SVG.
    app.add_config_value("handbook_render_diagrams", True, "env", bool)
    # every data file, loaded once a build: the first handler, before any needs the data
    app.connect("builder-inited", load_data)
    setup_facts(app)
    setup_freshness(app)
    setup_glossary(app)
    setup_mermaid(app)
    setup_chronology(app)
    setup_missions(app)
    setup_scenarios(app)
    setup_chart(app)
    setup_pagechecks(app)
    setup_links(app)
    setup_bibstyle(app)
    setup_standing(app)
    setup_icons(app)
    setup_latex(app)
    setup_epub(app)
    setup_share(app)
    setup_edition(app)
    setup_changes(app)
    setup_downloads(app)
    setup_aria(app)
    setup_toggles(app)
    setup_purge(app)
    setup_compress(app)
    _quiet_pybtex()
    _cache_pybtex_plugin_lookups()
    app.add_css_file("handbook.css")
    app.connect("builder-inited", _add_static)
    return {"version": __version__, "env_version": _code_version(), "parallel_read_safe": True,
            "parallel_write_safe": True}


def _code_version() -> int:
    """A number that changes with the extension's code: Sphinx rereads every page when an
    extension's ``env_version`` changes, so an edit of a role or directive never leaves
    pages rendered by the old code in an incremental build. The node scripts count too:
    render-mermaid.mjs draws the diagrams the pages embed."""
    import hashlib

    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted([*here.glob("*.py"), *here.glob("*.mjs")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return int(digest.hexdigest()[:12], 16)


def _add_static(app: Sphinx) -> None:
    static = str(Path(__file__).parent / "static")
    if static not in app.config.html_static_path:  # a new list: defaults are shared
        app.config.html_static_path = [*app.config.html_static_path, static]


def _quiet_pybtex() -> None:
    """Let sphinxcontrib-bibtex read a bad .bib file without crashing the build.

    Our own loader (bibfile.load_sources) parses each entry strictly and reports every
    problem with the .bib file's line; pybtex's own console print would be a second,
    line-less message, so it is silenced.
    """
    import pybtex.errors

    pybtex.errors.set_strict_mode(False)
    pybtex.errors.print_error = lambda *args, **kwargs: None


def _cache_pybtex_plugin_lookups() -> None:
    """Look each pybtex plugin up once a process, not once a citation.

    pybtex finds its plugins (parser, style, backend) by scanning the installed packages'
    entry points on every call, a few milliseconds each; sphinxcontrib-bibtex asks for one
    for every citation it resolves and our source loader for every .bib entry, over a
    thousand scans a build (``make bench`` measured them as most of a no-change rebuild).
    The installed packages do not change during a build, so the scan's result is kept;
    plugins registered at run time are still looked up first, as before.
    """
    import functools

    import pybtex.plugin

    lookup = pybtex.plugin.entry_points
    if not hasattr(lookup, "cache_info"):
        pybtex.plugin.entry_points = functools.lru_cache(maxsize=None)(lookup)
