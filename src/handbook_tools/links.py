"""Internal links of the built HTML: every href/src between pages resolves to a file and,
for ``#anchors``, to an element with that id.

Run after an HTML build (``build-finished``); a broken link is a warning on the page's
source document, so the strict build fails.
"""

from __future__ import annotations

import os
import pickle
import posixpath
from contextlib import suppress
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
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


class _Found(NamedTuple):
    """What a page holds: its ids and its links, as the collector found them."""

    ids: set[str]
    links: list[tuple[str, str]]


def scan(outdir: Path, cache: Path | None = None) -> dict[str, _Found]:
    """The ids and links of every page. With ``cache``, a page whose file has the size and
    time it had at the last scan is not parsed again (parsing every page took most of this
    check's time, and an incremental build rewrites only a few pages)."""
    old: dict[str, tuple[int, int, _Found]] = {}
    if cache is not None:
        try:
            old = pickle.loads(cache.read_bytes())
        except (OSError, pickle.PickleError, EOFError, AttributeError, TypeError):
            old = {}
    known: dict[str, tuple[int, int, _Found]] = {}
    pages = {}
    for path in sorted(outdir.rglob("*.html")):
        rel = path.relative_to(outdir)
        if rel.parts[0] in ("_static", "_sources", "_images"):
            continue  # theme templates and copies, not pages
        stat = path.stat()
        seen = old.get(rel.as_posix())
        if seen is not None and seen[:2] == (stat.st_size, stat.st_mtime_ns):
            found = seen[2]
        else:
            collector = _Collector()
            collector.feed(path.read_text(encoding="utf-8", errors="replace"))
            found = _Found(collector.ids, collector.links)
        pages[rel.as_posix()] = found
        known[rel.as_posix()] = (stat.st_size, stat.st_mtime_ns, found)
    if cache is not None:
        with suppress(OSError):
            cache.write_bytes(pickle.dumps(known))
    return pages


def _site_files(outdir: Path) -> tuple[set[str], set[str]]:
    """Every file and every folder of the site, as paths relative to it ("" the root)."""
    files: set[str] = set()
    folders: set[str] = set()
    for dirpath, _dirnames, filenames in os.walk(outdir):
        rel = Path(dirpath).relative_to(outdir).as_posix()
        rel = "" if rel == "." else rel
        folders.add(rel)
        files.update(posixpath.join(rel, name) for name in filenames)
    return files, folders


def broken_links(outdir: Path, cache: Path | None = None) -> list[tuple[str, str, str]]:
    """(page, url, reason) for every internal link that does not resolve.

    Paths are resolved as strings against one listing of the site's files (thousands of
    links, most of them the same few navigation targets: a file-system call for each
    took most of the check's time); the site holds no symbolic links."""
    outdir = outdir.resolve()
    pages = scan(outdir, cache)
    files, folders = _site_files(outdir)
    out = []
    for page, found in pages.items():
        base = posixpath.dirname(page)
        for _attr, url in found.links:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:  # external, mailto: or data: addresses
                continue
            rel = posixpath.normpath(posixpath.join(base, unquote(parts.path))) \
                if parts.path else page
            rel = "" if rel == "." else rel
            if rel.startswith(("/", "../")) or rel == "..":
                out.append((page, url, "points outside the site"))
                continue
            if rel in folders:
                rel = posixpath.join(rel, "index.html")
            if rel not in files:
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
    cache = Path(app.doctreedir) / "handbook-built-links.pickle"
    for page, url, reason in broken_links(Path(app.outdir), cache):
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
