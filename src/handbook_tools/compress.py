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
import os
import re
from concurrent.futures import ThreadPoolExecutor
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


def text_files(outdir: Path) -> list[Path]:
    return sorted(p for p in outdir.rglob("*")
                  if p.suffix in SUFFIXES and p.is_file() and not p.is_symlink())


def _write_if_changed(path: Path, data: bytes) -> None:
    if not (path.is_file() and path.read_bytes() == data):
        write_atomic(path, data)


def _packed(data: bytes, digest: str, cache: Path | None
            ) -> tuple[dict[str, bytes | None], int, int]:
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


def precompress(outdir: Path, cache: Path | None = None) -> dict[str, int]:
    """Write the ``.gz`` and ``.br`` copies of ``outdir``'s text files; remove stale ones.
    Returns the number of files, copies written from scratch, copies taken from cache and
    files left as they were.

    With ``cache``, a file whose content (:func:`filedigests.file_digests`: read only when
    its size or time changed) and copies are those of the last run is left as it is, so a
    rebuild reads only the files it wrote. Each distinct content is compressed once, in
    threads, one a CPU (zlib and Brotli release the GIL): a clean build's Brotli takes half
    the time on two cores. Each copy is made from its file's bytes alone, so the result
    does not depend on the order."""
    counts = {"files": 0, "compressed": 0, "cached": 0, "kept": 0, "removed": 0,
              "unloaded": 0}
    wanted: set[Path] = set()
    static = outdir / "_static"
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
        if path.suffix == ".html" and static not in path.parents:
            found = kept_scripts.get(sums[path])
            scripts[sums[path]] = found if isinstance(found, list) else sorted(
                {n.decode("utf-8", "replace") for n in SCRIPT_SRC.findall(path.read_bytes())})
    loaded = {name for names in scripts.values() for name in names}
    made: dict[str, list[Any]] = {}  # file -> [digest, {suffix: its copy's stat}]
    contents: dict[str, bytes] = {}  # digest -> bytes (two files may hold the same)
    targets: list[tuple[Path, str]] = []
    for path in paths:
        if path.stat().st_size < MIN_SIZE:
            continue
        if path.suffix == ".js" and static in path.parents and path.name not in loaded:
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
    order = sorted(contents, key=lambda d: -len(contents[d]))  # largest first
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = dict(zip(order, pool.map(lambda d: _packed(contents[d], d, cache), order),
                        strict=True))
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
