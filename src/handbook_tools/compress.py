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
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from .pictures import cache_dir, write_atomic

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


def text_files(outdir: Path) -> list[Path]:
    return sorted(p for p in outdir.rglob("*")
                  if p.suffix in SUFFIXES and p.is_file() and not p.is_symlink())


def _write_if_changed(path: Path, data: bytes) -> None:
    if not (path.is_file() and path.read_bytes() == data):
        write_atomic(path, data)


def precompress(outdir: Path, cache: Path | None = None) -> dict[str, int]:
    """Write the ``.gz`` and ``.br`` copies of ``outdir``'s text files; remove stale ones.
    Returns the number of files, copies written from scratch and copies taken from cache."""
    counts = {"files": 0, "compressed": 0, "cached": 0, "removed": 0, "unloaded": 0}
    wanted: set[Path] = set()
    static = outdir / "_static"
    files = [(path, path.read_bytes()) for path in text_files(outdir)]
    loaded = {name.decode("utf-8", errors="replace") for path, data in files
              if path.suffix == ".html" and static not in path.parents
              for name in SCRIPT_SRC.findall(data)}
    for path, data in files:
        if len(data) < MIN_SIZE:
            continue
        if path.suffix == ".js" and static in path.parents and path.name not in loaded:
            counts["unloaded"] += 1
            continue
        counts["files"] += 1
        digest = hashlib.sha256(data).hexdigest()
        for suffix, make in ((".gz", gzip_bytes), (".br", brotli_bytes)):
            cached = cache / f"{digest}{suffix}" if cache else None
            if cached is not None and cached.is_file():
                packed: bytes | None = cached.read_bytes()
                counts["cached"] += 1
            else:
                packed = make(data)
                counts["compressed"] += 1
                if cached is not None and packed is not None:
                    write_atomic(cached, packed)
            if packed is None or len(packed) >= len(data):
                continue
            target = path.with_name(path.name + suffix)
            _write_if_changed(target, packed)
            wanted.add(target)
    for suffix in ENCODINGS:
        for copy in sorted(outdir.rglob(f"*{suffix}")):
            original = copy.with_name(copy.name[: -len(suffix)])
            if original.suffix in SUFFIXES and copy not in wanted:
                copy.unlink()
                counts["removed"] += 1
    return counts


def precompress_site(app: Sphinx, exception: Exception | None) -> None:
    if (exception is not None or app.builder.name not in ("html", "dirhtml")
            or not app.config.handbook_precompress):
        return
    counts = precompress(Path(app.outdir), cache_dir(app.env, "compressed"))
    logger.verbose(f"pre-compressed copies: {counts}")


def setup_compress(app: Sphinx) -> None:
    app.add_config_value("handbook_precompress", True, "html", bool)
    # after every other step that writes into the output (downloads, the icon font and
    # stylesheet cuts, built-link checks): the copies are of the final bytes
    app.connect("build-finished", precompress_site, priority=950)
