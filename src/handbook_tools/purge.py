"""The theme's stylesheets cut down to the rules the site uses.

pydata-sphinx-theme's stylesheet is 370 KB (all of Bootstrap and every component of the
theme); each page needs a tenth of it, and a browser paints nothing until it has it all.
After an HTML build, PurgeCSS (npm ``purgecss``, run by ``tools/purge-css.mjs``) keeps in
each stylesheet of :data:`TARGETS` only the rules whose classes, ids, elements and
attributes occur in the built pages or in the scripts they can load (so that classes the
scripts toggle, such as the theme switcher's, the sidebars', the search page's or the
fact cards', stay), plus :data:`SAFELIST`: names that scripts build at run time.
``@font-face``, ``@keyframes`` and custom properties are kept whole. The theme's
``styles/theme.css``, a one-line ``@import`` of ``basic.css``, gets the cut ``basic.css``
itself, which saves the browser a round trip before the first paint.

The unpurged stylesheets are kept beside the doctrees (``<doctrees>/unpurged/``, not
published) so that the browser tests can load each page with them and with the cut ones
and compare what they draw. The cut is cached by its inputs (the stylesheets, the pages and
scripts, the safelist), so a rebuild that changes nothing does not run node; nor does an
edit that brings no new word a selector can match into the pages (PurgeCSS keeps a rule by
the words of the content, :data:`WORD`), since the cut is also cached under the set of the
content's words that occur in the stylesheets or hold a partial attribute selector's value.
``handbook_purge_css = False`` leaves the stylesheets whole.

Runs after the icon-font cut (which reads the whole stylesheets' icon table) and before
the pre-compressed copies (:mod:`handbook_tools.compress`) are written.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

from sphinx.application import Sphinx

from .filedigests import file_digests, record_path
from .nodepackages import node_command
from .pictures import cache_dir, read_json, write_json
from .problems import Check, warn

#: stylesheets under ``_static`` that are cut (the theme's and Sphinx's own; Pygments'
#: is generated per style and small, ours are written for the site)
TARGETS = ("styles/pydata-sphinx-theme.css", "styles/sphinx-book-theme.css", "basic.css")
#: the theme's stylesheet that only imports basic.css: it gets basic.css's cut rules
IMPORTER = "styles/theme.css"
IMPORT = re.compile(r'^\s*(?:/\*.*?\*/\s*)*@import\s+"\.\./basic\.css";\s*$', re.S)
#: scripts that no page loads: fontawesome.js names every icon of the library
UNLOADED_SCRIPTS = frozenset({"fontawesome.js"})
#: class names that scripts compose at run time, which no file spells out
SAFELIST: dict[str, list[str]] = {
    # PurgeCSS drops a rule whose selector is a pseudo-class alone: the theme's keyboard
    # focus ring (`:focus-visible{outline: ...}`) on every focusable element
    "standard": [":focus-visible"],
    # searchtools.js: result items get `kind-${kind}` (index, object, text, title)
    "greedy": ["^kind-"],
    "deep": [],
}
#: the script, shipped as package data beside this module
SCRIPT = Path(__file__).with_name("purge-css.mjs")


def unpurged_dir(doctreedir: Path | str) -> Path:
    return Path(doctreedir, "unpurged")


def _content(outdir: Path) -> list[Path]:
    pages = [p for p in outdir.rglob("*.html")
             if not p.relative_to(outdir).as_posix().startswith("_static/")]
    scripts = [p for p in (outdir / "_static").rglob("*.js") if p.name not in UNLOADED_SCRIPTS]
    return sorted(p for p in pages + scripts if p.is_file())


#: what PurgeCSS's default extractor takes from every content file: the cut depends on
#: the set of these words alone, not on the rest of the pages' text
WORD = re.compile(rb"[A-Za-z0-9_-]+")
#: the value of an attribute selector that PurgeCSS matches against part of a word
#: (``[class^=toctree-l]``, ``*=``, ``$=``, ``~=``, ``|=``)
PARTIAL = re.compile(rb"\[\s*[\w-]+\s*[\^*$|~]=\s*[\"']?([^\"'\]\s]+)")


def _base_digest(styles: dict[str, bytes], script: Path) -> hashlib._Hash:
    """The cut's inputs other than the content: the script, the safelist, the stylesheets."""
    digest = hashlib.sha256(script.read_bytes() if script.is_file() else b"")
    digest.update(json.dumps(SAFELIST, sort_keys=True).encode())
    for rel, data in sorted(styles.items()):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest


def _key(styles: dict[str, bytes], sums: dict[Path, str], script: Path) -> str:
    """The cut's inputs, the content files by their digests (``sums``)."""
    digest = _base_digest(styles, script)
    for path in sorted(sums):
        digest.update(bytes.fromhex(sums[path]))
    return digest.hexdigest()[:20]


def _selector_words(data: bytes, named: set[bytes], partial: set[bytes]) -> list[str]:
    """The words PurgeCSS finds in a content file that a selector can match: a word of
    the stylesheets, or one that holds the value of a partial attribute selector."""
    return sorted(w.decode("ascii") for w in set(WORD.findall(data))
                  if w in named or any(v in w for v in partial))


def _words_key(styles: dict[str, bytes], sums: dict[Path, str], script: Path,
               cache: Path | None) -> str:
    """The cut's inputs with the content as the words PurgeCSS finds in it that a
    selector can match (the same for an edit of a page's prose: new prose runs no node).
    The words of each content file are kept by its digest in ``cache`` (a file per set of
    stylesheets), so an edit reads only the files it changed."""
    digest = _base_digest(styles, script)
    css = b"\n".join(styles.values())
    named, partial = set(WORD.findall(css)), set(PARTIAL.findall(css))
    kept_at = cache / f"words-{digest.hexdigest()[:20]}.json" if cache else None
    kept = read_json(kept_at, {}) if kept_at else {}
    kept = kept if isinstance(kept, dict) else {}
    by_digest: dict[str, list[str]] = {}
    found: set[str] = set()
    for path, sha in sums.items():
        words = kept.get(sha)
        if not isinstance(words, list):
            words = _selector_words(path.read_bytes(), named, partial)
        by_digest[sha] = words
        found.update(words)
    if kept_at is not None and by_digest != kept:
        write_json(kept_at, by_digest)
    digest.update(b"words\0" + "\n".join(sorted(found)).encode("ascii"))
    return digest.hexdigest()[:20]


def purge_css(outdir: Path, command: list[str] | str, cache: Path | None) -> dict[str, str]:
    """Cut ``outdir``'s TARGETS in place; return the cut stylesheets by path under
    ``_static``. COMMAND runs the script (:func:`nodepackages.node_command`), or says what
    is missing. Raises RuntimeError when node or PurgeCSS is missing or fails."""
    static = outdir / "_static"
    styles = {rel: (static / rel).read_bytes() for rel in TARGETS if (static / rel).is_file()}
    if not styles:
        return {}
    content = _content(outdir)
    # the content's digests, each file read only when it changed since the last cut
    sums = file_digests(outdir, content,
                        record_path(cache, outdir, "content") if cache else None)
    cached = cache / _key(styles, sums, SCRIPT) / "cut.json" if cache else None
    cut = read_json(cached) if cached is not None else None
    if cut is None and cache is not None:  # new bytes, perhaps the same words
        by_words = cache / ("w" + _words_key(styles, sums, SCRIPT, cache)) / "cut.json"
        cut = read_json(by_words)
        if cut is not None and cached is not None:
            write_json(cached, cut)
    else:
        by_words = None
    if cut is None:
        if isinstance(command, str):
            raise RuntimeError(command)
        job = {"css": [str(static / rel) for rel in styles],
               "content": [str(p) for p in content], "safelist": SAFELIST}
        proc = subprocess.run(command, input=json.dumps(job), text=True, capture_output=True,
                              timeout=300, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{SCRIPT.name} failed: {proc.stderr.strip()[-800:]}")
        by_path = json.loads(proc.stdout)
        cut = {rel: by_path[str(static / rel)] for rel in styles}
        for path in (cached, by_words):
            if path is not None:
                write_json(path, cut)
    for rel, css in cut.items():
        (static / rel).write_text(css, encoding="utf-8")
    importer = static / IMPORTER
    if "basic.css" in cut and importer.is_file() and IMPORT.match(
            importer.read_text(encoding="utf-8")):
        importer.write_text(cut["basic.css"], encoding="utf-8")
    return cut


def _keep_unpurged(outdir: Path, doctreedir: Path) -> None:
    """Copy the whole stylesheets where the browser tests find them."""
    keep = unpurged_dir(doctreedir)
    for rel in (*TARGETS, IMPORTER):
        source = outdir / "_static" / rel
        if source.is_file():
            target = keep / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_file() or target.read_bytes() != source.read_bytes():
                shutil.copyfile(source, target)


def purge_site(app: Sphinx, exception: Exception | None) -> None:
    if (exception is not None or app.builder.name not in ("html", "dirhtml")
            or not app.config.handbook_purge_css):
        return
    outdir = Path(app.outdir)
    _keep_unpurged(outdir, Path(app.doctreedir))
    try:
        purge_css(outdir, node_command(app.config, app.confdir, SCRIPT, ("purgecss",),
                                       "cut stylesheets"),
                  cache_dir(app.env, "purged-css"))
    except (RuntimeError, OSError, ValueError, KeyError) as exc:
        warn(Check.PURGE_CSS, f"stylesheets left whole: {exc}", None)


def setup_purge(app: Sphinx) -> None:
    app.add_config_value("handbook_purge_css", True, "html", bool)
    # after the icon-font cut (priority 500), before the pre-compressed copies (950)
    app.connect("build-finished", purge_site, priority=600)
