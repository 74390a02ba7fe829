"""Internal links of the built HTML: every href/src between pages resolves to a file and,
for ``#anchors``, to an element with that id.

Run after an HTML build (``build-finished``); a broken link is a warning on the page's
source document, so the strict build fails.
"""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from .problems import Check, warn

#: files a build may link to before they exist: the PDF is copied in by `make` after the
#: HTML build, so `make html` alone leaves the link for `make` (or `make pdf`) to fill
OPTIONAL = {"handbook.pdf"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            # images are left to Sphinx, which reports a missing one at its source line
            elif (name == "href" and tag in ("a", "link")) or (
                    name == "src" and tag in ("script", "iframe")):
                self.links.append((name, value))


def scan(outdir: Path) -> dict[str, _Collector]:
    pages = {}
    for path in sorted(outdir.rglob("*.html")):
        if path.relative_to(outdir).parts[0] in ("_static", "_sources", "_images"):
            continue  # theme templates and copies, not pages
        collector = _Collector()
        collector.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path.relative_to(outdir).as_posix()] = collector
    return pages


def broken_links(outdir: Path) -> list[tuple[str, str, str]]:
    """(page, url, reason) for every internal link that does not resolve."""
    pages = scan(outdir)
    out = []
    for page, found in pages.items():
        base = (outdir / page).parent
        for _attr, url in found.links:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:  # external, mailto: or data: addresses
                continue
            if parts.path:
                target_path = (base / unquote(parts.path)).resolve()
            else:
                target_path = (outdir / page).resolve()
            try:
                rel = target_path.relative_to(outdir.resolve()).as_posix()
            except ValueError:
                out.append((page, url, "points outside the site"))
                continue
            if target_path.is_dir():
                rel = (Path(rel) / "index.html").as_posix()
                target_path = target_path / "index.html"
            if not target_path.exists():
                if rel not in OPTIONAL:
                    out.append((page, url, "no such file"))
                continue
            if parts.fragment and rel.endswith(".html"):
                target = pages.get(rel)
                if target is not None and unquote(parts.fragment) not in target.ids:
                    out.append((page, url, f"no element with id {parts.fragment!r}"))
    return out


def _myst_reported(env: BuildEnvironment, docname: str, page: str, url: str) -> bool:
    """Whether MyST has already warned, at its source line, about this link: a Markdown
    link ``[text](other.md#id)`` or ``[text](#id)`` to an id that does not exist
    (``myst.xref_missing``).  MyST still writes the link, so without this check it would
    be reported twice."""
    parts = urlsplit(url)
    if not parts.fragment or parts.scheme or parts.netloc:
        return False
    fragment = unquote(parts.fragment)
    if parts.path:  # [text](other.md#id): the target document and the id apart
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page),
                                                   unquote(parts.path)))
        wanted: tuple[str, str | None] = (target.removesuffix(".html"), fragment)
    else:  # [text](#id): the id alone
        wanted = (fragment, None)
    try:
        tree = env.get_doctree(docname)
    except (OSError, EOFError, KeyError):  # pragma: no cover - no pickled doctree
        return False
    return any(node.get("reftype") == "myst"
               and (node.get("reftarget"), node.get("reftargetid")) == wanted
               for node in tree.findall(addnodes.pending_xref))


def _source_line(env: BuildEnvironment, docname: str, url: str) -> int:
    """The first line of the page's source that holds the link (0: not found there,
    e.g. a link the theme writes)."""
    try:
        text = env.doc2path(docname).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 0
    for number, line in enumerate(text.splitlines(), 1):
        if url in line:
            return number
    return 0


def check_built_links(app: Sphinx, exception: Exception | None) -> None:
    if (exception is not None or app.builder.format != "html" or app.builder.name != "html"
            or not app.config.handbook_checks):
        return
    for page, url, reason in broken_links(Path(app.outdir)):
        docname = page.removesuffix(".html")
        if docname in app.env.all_docs and _myst_reported(app.env, docname, page, url):
            continue
        location: str | tuple[str, int] | None = None
        if docname in app.env.all_docs:
            line = _source_line(app.env, docname, url)
            location = (docname, line) if line else docname
        warn(Check.LINK, f"broken internal link {url!r} in {page}: {reason}", location)


def setup_links(app: Sphinx) -> None:
    app.connect("build-finished", check_built_links)
