"""Pre-compressed copies of the site's text files, as static hosts serve them.

After an HTML build, every text file of the output (HTML, CSS, JavaScript, SVG, JSON, XML)
gets a gzip copy (``page.html.gz``) and a Brotli copy (``page.html.br``) beside it, when
the copy is smaller. A static host (nginx ``gzip_static``/``brotli_static``, Caddy's
``precompressed``, Netlify, ...) or the bench's server (:mod:`handbook_tools.localserver`)
sends them with ``Content-Encoding`` to a browser that accepts the encoding; a reader who
opens the folder from disk never sees them.

The copies are deterministic: gzip with no file name and time 0, Brotli at quality 11, each
made from the file's bytes alone, so two builds of one commit give the same bytes. They are
cached by the file's content (Brotli at its best quality is slow), so a rebuild compresses
only what changed; copies whose original is gone are removed. A script of ``_static/`` that
no page loads gets no copies: the theme ships its whole Font Awesome library
(``fontawesome.js``, 1.5 MB, 3 s of Brotli), which the book's templates do not load.
``handbook_precompress = False`` writes none.

The compressing overlaps the rest of the build (:class:`EarlyCopies`): each page is
compressed in a background thread as soon as Sphinx has written it, while Sphinx writes the
next (Brotli releases the GIL, so on two cores it runs beside Sphinx), and the other files
as soon as the downloads are written, while the built-link check and the stylesheet cut
run. At the end every copy is still made from the file's final bytes: the early results
are kept by the digest of the bytes they were made from, and a file whose bytes changed
since (the stylesheet cut's CSS, a page rewritten by a later step) is compressed again.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

from .filedigests import file_digests, record_path
from .pictures import cache_dir, read_json, write_atomic, write_json

logger = logging.getLogger(__name__)

#: text files worth compressing; the rest (fonts, images, PDF) are compressed already
SUFFIXES = frozenset({".html", ".css", ".js", ".svg", ".json", ".xml"})
#: encodings, by the suffix of their copy
ENCODINGS = {".gz": "gzip", ".br": "br"}
#: smaller files gain nothing worth a second request path (and gzip's header costs 18 bytes)
MIN_SIZE = 256
#: the file name of a script a page loads
SCRIPT_SRC = re.compile(rb"<script\b[^>]*?\ssrc=[\"']?(?:[^\"'?#>\s]*/)?([^\"'/?#>\s]+\.js)")


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def brotli_bytes(data: bytes) -> bytes | None:
    try:
        import brotli
    except ImportError:  # pragma: no cover - brotli is a dependency (fontTools' woff2)
        return None
    mode = brotli.MODE_TEXT
    return bytes(brotli.compress(data, mode=mode, quality=11))


def is_page(outdir: Path, path: Path) -> bool:
    """A page of the site (not an HTML file among the theme's static files)."""
    return path.suffix == ".html" and outdir / "_static" not in path.parents


def scripts_of(page: bytes) -> list[str]:
    """The file names of the scripts a page loads."""
    return sorted({name.decode("utf-8", errors="replace") for name in SCRIPT_SRC.findall(page)})


def unloaded(outdir: Path, path: Path, loaded: set[str]) -> bool:
    """A script of ``_static`` that no page loads (it gets no copies)."""
    return (path.suffix == ".js" and outdir / "_static" in path.parents
            and path.name not in loaded)


def text_files(outdir: Path) -> list[Path]:
    return sorted(p for p in outdir.rglob("*")
                  if p.suffix in SUFFIXES and p.is_file() and not p.is_symlink())


def _write_if_changed(path: Path, data: bytes) -> None:
    if not (path.is_file() and path.read_bytes() == data):
        write_atomic(path, data)


#: a content's copies by suffix, and how many were compressed and taken from the cache
Packed = tuple[dict[str, bytes | None], int, int]


def _packed(data: bytes, digest: str, cache: Path | None) -> Packed:
    """One content's copies by suffix (from the cache when there), and how many were
    compressed and taken from the cache."""
    packs: dict[str, bytes | None] = {}
    compressed = from_cache = 0
    for suffix, make in ((".gz", gzip_bytes), (".br", brotli_bytes)):
        cached = cache / f"{digest}{suffix}" if cache else None
        if cached is not None and cached.is_file():
            packs[suffix] = cached.read_bytes()
            from_cache += 1
        else:
            packs[suffix] = make(data)
            compressed += 1
            if cached is not None and packs[suffix] is not None:
                write_atomic(cached, packs[suffix] or b"")
    return packs, compressed, from_cache


def _stat(path: Path) -> list[int] | None:
    with suppress(OSError):
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns]
    return None


def precompress(outdir: Path, cache: Path | None = None,
                early: dict[str, Packed] | None = None) -> dict[str, int]:
    """Write the ``.gz`` and ``.br`` copies of ``outdir``'s text files; remove stale ones.
    Returns the number of files, copies written from scratch, copies taken from cache and
    files left as they were.

    With ``cache``, a file whose content (:func:`filedigests.file_digests`: read only when
    its size or time changed) and copies are those of the last run is left as it is, so a
    rebuild reads only the files it wrote. Each distinct content is compressed once, in
    threads, one a CPU (zlib and Brotli release the GIL): a clean build's Brotli takes half
    the time on two cores. Each copy is made from its file's bytes alone, so the result
    does not depend on the order. ``early``: copies already made in the background,
    by the digest of the bytes they were made from; a file whose bytes have another
    digest is compressed here."""
    counts = {"files": 0, "compressed": 0, "cached": 0, "kept": 0, "removed": 0,
              "unloaded": 0, "early": 0, "early_unused": 0}
    wanted: set[Path] = set()
    paths = text_files(outdir)
    sums = file_digests(outdir, paths, record_path(cache, outdir, "text") if cache else None)
    made_at = record_path(cache, outdir, "copies") if cache else None
    kept = read_json(made_at, {}) if made_at else {}
    kept_files = kept.get("files") if isinstance(kept, dict) else None
    kept_files = kept_files if isinstance(kept_files, dict) else {}
    kept_scripts = kept.get("scripts") if isinstance(kept, dict) else None
    kept_scripts = kept_scripts if isinstance(kept_scripts, dict) else {}
    # the scripts the pages load, by each page's digest
    scripts: dict[str, list[str]] = {}
    for path in paths:
        if is_page(outdir, path):
            found = kept_scripts.get(sums[path])
            scripts[sums[path]] = (found if isinstance(found, list)
                                   else scripts_of(path.read_bytes()))
    loaded = {name for names in scripts.values() for name in names}
    made: dict[str, list[Any]] = {}  # file -> [digest, {suffix: its copy's stat}]
    contents: dict[str, bytes] = {}  # digest -> bytes (two files may hold the same)
    targets: list[tuple[Path, str]] = []
    for path in paths:
        if path.stat().st_size < MIN_SIZE:
            continue
        if unloaded(outdir, path, loaded):
            counts["unloaded"] += 1
            continue
        rel, digest = path.relative_to(outdir).as_posix(), sums[path]
        before = kept_files.get(rel)
        if (isinstance(before, list) and len(before) == 2 and before[0] == digest
                and isinstance(before[1], dict) and all(
                _stat(path.with_name(path.name + suffix)) == stat
                for suffix, stat in before[1].items())):
            counts["kept"] += 1
            made[rel] = before
            wanted.update(path.with_name(path.name + suffix) for suffix in before[1])
            continue
        contents.setdefault(digest, path.read_bytes())
        targets.append((path, digest))
    counts["files"] = len(targets) + counts["kept"]
    early = early or {}
    order = sorted((d for d in contents if d not in early),
                   key=lambda d: -len(contents[d]))  # largest first
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = dict(zip(order, pool.map(lambda d: _packed(contents[d], d, cache), order),
                        strict=True))
    done.update((d, early[d]) for d in contents if d in early)
    counts["early"] = sum(d in early for d in contents)
    counts["early_unused"] = len(early) - counts["early"]  # rewritten since: work lost
    for _packs, compressed, from_cache in done.values():
        counts["compressed"] += compressed
        counts["cached"] += from_cache
    for path, digest in targets:
        copies: dict[str, list[int] | None] = {}
        for suffix, packed in done[digest][0].items():
            if packed is None or len(packed) >= len(contents[digest]):
                continue
            target = path.with_name(path.name + suffix)
            _write_if_changed(target, packed)
            wanted.add(target)
            copies[suffix] = _stat(target)
        made[path.relative_to(outdir).as_posix()] = [digest, copies]
    for suffix in ENCODINGS:
        for copy in sorted(outdir.rglob(f"*{suffix}")):
            original = copy.with_name(copy.name[: -len(suffix)])
            if original.suffix in SUFFIXES and copy not in wanted:
                copy.unlink()
                counts["removed"] += 1
    if made_at is not None:
        write_json(made_at, {"files": made, "scripts": scripts})
    return counts


class EarlyCopies:
    """Copies made in background threads while the build goes on, by the digest of the
    bytes they were made from (one thread a CPU; the build's own thread keeps one busy)."""

    def __init__(self, outdir: Path, cache: Path) -> None:
        self.outdir, self.cache = outdir, cache
        self.pid = os.getpid()  # a parallel writer (-j, a forked process) adds nothing
        self.pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        self.futures: dict[str, Future[Packed | None]] = {}
        #: a page without copies was written: a first build, whose other files are worth
        #: starting on before the end (a rebuild leaves them to the end's quick check)
        self.new_pages = False

    def add(self, path: Path) -> None:
        """Compress PATH's present bytes in the background."""
        if os.getpid() != self.pid or path.suffix not in SUFFIXES:
            return
        if not path.with_name(path.name + ".br").is_file():
            self.new_pages = True
        try:
            data = path.read_bytes()
        except OSError:
            return
        if len(data) < MIN_SIZE:
            return
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self.futures:
            self.futures[digest] = self.pool.submit(self._pack, data, digest)

    def _pack(self, data: bytes, digest: str) -> Packed | None:
        """The copies of DATA; None when the cache has them (a rebuild that changed
        nothing need not read them)."""
        if all((self.cache / f"{digest}{suffix}").is_file() for suffix in ENCODINGS):
            return None
        return _packed(data, digest, self.cache)

    def close(self) -> dict[str, Packed]:
        """The copies made, by digest (waits for the threads to finish)."""
        self.pool.shutdown(wait=True)
        done = {digest: future.result() for digest, future in self.futures.items()}
        return {digest: packed for digest, packed in done.items() if packed is not None}


def _early(app: Sphinx) -> EarlyCopies | None:
    return getattr(app, "_handbook_early_copies", None)


def start_early_copies(app: Sphinx) -> None:
    """``builder-inited``: compress each page as soon as the builder has written it.

    Sphinx has no event after a page is written, so the builder's ``handle_page`` (which
    renders and writes every page, the index and search pages too) is wrapped."""
    if app.builder.name not in ("html", "dirhtml") or not app.config.handbook_precompress:
        return
    early = EarlyCopies(Path(app.outdir), cache_dir(app.env, "compressed"))
    app._handbook_early_copies = early  # type: ignore[attr-defined]
    builder: Any = app.builder
    handle_page = builder.handle_page

    def handle_and_compress(pagename: str, *args: Any, **kwargs: Any) -> None:
        handle_page(pagename, *args, **kwargs)
        written = kwargs.get("outfilename") or builder.get_output_path(pagename)
        early.add(Path(written))

    builder.handle_page = handle_and_compress


def compress_early(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``, after the downloads: start on every other text file (not the
    stylesheets, which the icon and stylesheet cuts rewrite), while the checks and cuts
    run."""
    early = _early(app)
    if exception is not None or early is None or not early.new_pages:
        return
    outdir, paths = early.outdir, text_files(early.outdir)
    loaded = {name for path in paths if is_page(outdir, path)
              for name in scripts_of(path.read_bytes())}
    # a file with copies beside it is left to the end, where a rebuild that changed
    # nothing is recognised without reading a copy
    for path in paths:
        if (path.suffix != ".css" and not unloaded(outdir, path, loaded) and not any(
                path.with_name(path.name + suffix).is_file() for suffix in ENCODINGS)):
            early.add(path)


def precompress_site(app: Sphinx, exception: Exception | None) -> None:
    early = _early(app)
    if early is not None:
        app._handbook_early_copies = None  # type: ignore[attr-defined]
    if (exception is not None or app.builder.name not in ("html", "dirhtml")
            or not app.config.handbook_precompress):
        if early is not None:
            early.pool.shutdown(wait=True, cancel_futures=True)
        return
    futures = early.close() if early is not None else {}
    counts = precompress(Path(app.outdir), cache_dir(app.env, "compressed"), futures)
    logger.verbose(f"pre-compressed copies: {counts}")


def setup_compress(app: Sphinx) -> None:
    app.add_config_value("handbook_precompress", True, "html", bool)
    app.connect("builder-inited", start_early_copies)
    # after the downloads (priority 400): everything but the stylesheets, in the background
    app.connect("build-finished", compress_early, priority=450)
    # after every other step that writes into the output (downloads, the icon font and
    # stylesheet cuts, built-link checks): the copies are of the final bytes
    app.connect("build-finished", precompress_site, priority=950)
