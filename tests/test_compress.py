"""Pre-compressed copies of the built site (handbook_tools.compress) and the local server
that sends them, as a static host does."""

from __future__ import annotations

import gzip
import os
import time
import urllib.request
from pathlib import Path

import brotli
import pytest

from handbook_tools.compress import MIN_SIZE, precompress
from handbook_tools.localserver import serve_folder

PAGE = ("<!DOCTYPE html><title>t</title>" + "<p>The coalition said so.</p>\n" * 200).encode()


def _site(root: Path) -> Path:
    (root / "_static").mkdir(parents=True)
    (root / "index.html").write_bytes(PAGE)
    (root / "_static" / "site.css").write_bytes(b"p { color: #222; }\n" * 100)
    (root / "_static" / "tiny.js").write_bytes(b"var x = 1;\n")  # below MIN_SIZE
    (root / "_static" / "font.woff2").write_bytes(b"\0" * 4000)  # not text
    return root


def test_copies_decompress_to_the_original_and_are_reproducible(tmp_path: Path) -> None:
    a, b = _site(tmp_path / "a"), _site(tmp_path / "b")
    counts = precompress(a, tmp_path / "cache-a")
    precompress(b, None)
    assert counts["files"] == 2
    for rel in ("index.html", "_static/site.css"):
        original = (a / rel).read_bytes()
        assert gzip.decompress((a / f"{rel}.gz").read_bytes()) == original
        assert brotli.decompress((a / f"{rel}.br").read_bytes()) == original
        # the same bytes from another folder, without the cache: no name, no time inside
        assert (a / f"{rel}.gz").read_bytes() == (b / f"{rel}.gz").read_bytes()
        assert (a / f"{rel}.br").read_bytes() == (b / f"{rel}.br").read_bytes()
        assert len((a / f"{rel}.br").read_bytes()) < len(original) // 4
    assert (a / "index.html.gz").read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert len((a / "_static" / "tiny.js").read_bytes()) < MIN_SIZE
    assert not (a / "_static" / "tiny.js.gz").exists()
    assert not (a / "_static" / "font.woff2.gz").exists()


def test_rebuild_uses_the_cache_and_removes_stale_copies(tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    cache = tmp_path / "cache"
    first = precompress(site, cache)
    assert first["compressed"] == 4 and first["cached"] == 0
    again = precompress(site, cache)  # nothing changed: no copy made or read again
    assert again["compressed"] == 0 and again["cached"] == 0 and again["kept"] == 2
    (site / "index.html").write_bytes(PAGE.replace(b"coalition", b"mission"))
    (site / "_static" / "site.css").unlink()
    changed = precompress(site, cache)
    assert changed["compressed"] == 2 and changed["removed"] == 2
    assert not (site / "_static" / "site.css.gz").exists()
    assert not (site / "_static" / "site.css.br").exists()
    assert b"mission" in gzip.decompress((site / "index.html.gz").read_bytes())
    # the same bytes again: the copies come from the cache
    (site / "index.html").write_bytes(PAGE)
    back = precompress(site, cache)
    assert back["compressed"] == 0 and back["cached"] == 2
    assert gzip.decompress((site / "index.html.gz").read_bytes()) == PAGE


def test_a_rebuild_reads_only_the_files_it_changed(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose size and time are those of the last run (and old enough: not written
    in the clock tick of the record) is not read again; a changed file, or one whose copy
    was removed or altered, gets its copies made again."""
    site = _site(tmp_path / "site")
    (site / "other.html").write_bytes(PAGE.replace(b"said", b"wrote"))
    old = time.time_ns() - 60 * 10**9  # a minute ago: past the racy window
    for path in site.rglob("*"):
        os.utime(path, ns=(old, old))
    cache = tmp_path / "cache"
    precompress(site, cache)
    for path in site.rglob("*"):
        os.utime(path, ns=(old, old))
    precompress(site, cache)  # records the copies' times
    read: list[str] = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real(self))
    (site / "other.html").write_bytes(PAGE.replace(b"said", b"denied"))
    (site / "_static" / "site.css.br").unlink()
    (site / "index.html.gz").write_bytes(b"tampered")
    counts = precompress(site, cache)
    assert "other.html" in read and "site.css" in read and "index.html" in read
    assert counts["kept"] == 0 and counts["files"] == 3
    assert brotli.decompress((site / "_static" / "site.css.br").read_bytes()) == \
        (site / "_static" / "site.css").read_bytes()
    assert gzip.decompress((site / "index.html.gz").read_bytes()) == PAGE
    assert b"denied" in brotli.decompress((site / "other.html.br").read_bytes())
    read.clear()
    for path in site.rglob("*"):
        os.utime(path, ns=(old, old))
    precompress(site, cache)  # records the new times
    read.clear()
    counts = precompress(site, cache)
    assert counts["kept"] == 3 and read == [], read


def _get(url: str, encoding: str | None) -> tuple[dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - 127.0.0.1 only
        return dict(resp.headers), resp.read()


def test_server_sends_the_copy_the_client_accepts(tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    precompress(site, None)
    with serve_folder(site, precompressed=True) as base:
        headers, body = _get(base, "gzip, deflate, br")  # the folder's index.html
        assert headers["Content-Encoding"] == "br"
        assert headers["Content-Type"].startswith("text/html")
        assert brotli.decompress(body) == PAGE
        headers, body = _get(base + "_static/site.css?v=1", "gzip")
        assert headers["Content-Encoding"] == "gzip" and headers["Content-Type"] == "text/css"
        assert gzip.decompress(body) == (site / "_static" / "site.css").read_bytes()
        headers, body = _get(base + "index.html", None)
        assert "Content-Encoding" not in headers and body == PAGE
        headers, body = _get(base + "_static/tiny.js", "br")
        assert "Content-Encoding" not in headers and body == b"var x = 1;\n"
    with serve_folder(site) as base:  # the plain server: the original bytes
        headers, body = _get(base + "index.html", "br")
        assert "Content-Encoding" not in headers and body == PAGE


@pytest.mark.parametrize("cached", [False, True])
def test_scripts_no_page_loads_get_no_copies(tmp_path: Path, cached: bool) -> None:
    """A script of _static/ that no page loads (the theme's whole fontawesome.js, which
    the book's templates leave out) is not compressed; the scripts pages load are."""
    site = _site(tmp_path / "site")
    script = b"window.icons = {};\n" * 100
    (site / "_static" / "loaded.js").write_bytes(script)
    (site / "_static" / "unused.js").write_bytes(script)
    # a theme template in _static/ naming a script is not a page that loads it
    (site / "_static" / "macros.html").write_bytes(
        b'<script src="_static/unused.js"></script>' + b"<!-- -->\n" * 40)
    (site / "sub").mkdir()
    (site / "sub" / "page.html").write_bytes(
        PAGE + b'<script defer src="../_static/loaded.js?v=1"></script>')
    cache = tmp_path / "cache" if cached else None
    counts = precompress(site, cache)
    assert counts["unloaded"] == 1
    assert (site / "_static" / "loaded.js.br").is_file()
    assert not (site / "_static" / "unused.js.br").exists()
    assert not (site / "_static" / "unused.js.gz").exists()
    # once a page loads it, it gets its copies
    (site / "index.html").write_bytes(PAGE + b"<script src='_static/unused.js'></script>")
    precompress(site, cache)
    assert brotli.decompress((site / "_static" / "unused.js.br").read_bytes()) == script
    # and when no page loads it any more, its copies go
    (site / "index.html").write_bytes(PAGE)
    precompress(site, cache)
    assert not (site / "_static" / "unused.js.br").exists()


def test_files_with_the_same_bytes_get_their_copies(tmp_path: Path) -> None:
    """Two files holding the same bytes (the cut basic.css is also styles/theme.css) are
    compressed once, and each gets its copies."""
    site = _site(tmp_path / "site")
    (site / "_static" / "twin.css").write_bytes((site / "_static" / "site.css").read_bytes())
    counts = precompress(site, tmp_path / "cache")
    assert counts["files"] == 3 and counts["compressed"] == 4
    for name in ("site.css", "twin.css"):
        assert (site / "_static" / f"{name}.br").read_bytes() == \
            (site / "_static" / "site.css.br").read_bytes()


LATE_STEP = '''
def rewrite(app, exception):
    page = app.outdir / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<!-- late step --></body>"))


def setup(app):
    # after the page was written (and compressed in the background), before the copies
    app.connect("build-finished", rewrite, priority=700)
'''


def test_copies_of_a_build_are_of_the_final_bytes(clean_project: Path, build,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages are compressed in the background while Sphinx writes them, the other files
    while the later steps run: a file rewritten after that (here a page, by a step of
    build-finished; in the book the stylesheets, by their cut) still gets the copies of
    its final bytes, and every copy of the site decompresses to the file beside it."""
    from handbook_tools import compress

    monkeypatch.setenv("HANDBOOK_CACHE_DIR", str(clean_project.parent / "cache"))  # cold
    packed: list[bytes] = []
    real_packed = compress._packed

    def spy(data: bytes, digest: str, cache: Path | None) -> compress.Packed:
        packed.append(data)  # list.append is atomic: the pool's threads call this
        return real_packed(data, digest, cache)

    monkeypatch.setattr(compress, "_packed", spy)
    (clean_project / "late_step.py").write_text(LATE_STEP, encoding="utf-8")
    with (clean_project / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write("\nimport os, sys\nsys.path.insert(0, os.path.dirname(__file__))\n"
                   "extensions.append('late_step')\n")
    built = build(clean_project, confoverrides={"handbook_render_diagrams": False})
    assert built.warnings.strip() == ""
    page = (built.outdir / "index.html").read_bytes()
    assert b"<!-- late step -->" in page
    # the page as Sphinx wrote it was compressed (early), and again as it ended
    assert page.replace(b"<!-- late step -->", b"") in packed
    assert page in packed
    assert brotli.decompress((built.outdir / "index.html.br").read_bytes()) == page
    copies = sorted(built.outdir.rglob("*.br")) + sorted(built.outdir.rglob("*.gz"))
    assert len(copies) > 10
    for copy in copies:
        unpack = brotli.decompress if copy.suffix == ".br" else gzip.decompress
        assert unpack(copy.read_bytes()) == copy.with_suffix("").read_bytes(), copy
