"""The icon font cut down to the icons the site uses.

pydata-sphinx-theme draws its icons with the Font Awesome solid webfont
(``fa-solid-900.woff2``, about 110 KB, fetched by every page). After an HTML build the copy
in the output keeps only the glyphs the site can show: those of the ``fa-*`` classes named
in its pages and scripts, and those the theme's stylesheets use directly (admonition,
external-link and similar icons). The cut font is cached by its inputs, and the icon
names found in each page by the page's content, so a rebuild neither cuts the font again
nor rescans the pages it did not change. ``handbook_subset_icons = False`` leaves the font whole.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

from .filedigests import file_digests, record_path
from .pictures import cache_dir, read_json, write_json

logger = logging.getLogger(__name__)

FONT = Path("_static", "vendor", "fontawesome", "webfonts", "fa-solid-900.woff2")
ICON_CLASS = re.compile(r"\bfa-([a-z0-9-]+)")
#: a rule of the class table: ``.fa-bars,.fa-navicon{--fa:"\f0c9"}``
CLASS_GLYPH = re.compile(r'((?:\.fa-[a-z0-9-]+,?)+)\{--fa:"\\([0-9a-f]{4,5})"\}')
PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000fffff]")
#: CSS escapes of private-use code points outside the ``.fa-*`` class table
CSS_ESCAPE = re.compile(r'"\\([ef][0-9a-f]{3})"')


def _css_points(styles: list[str]) -> tuple[dict[str, int], set[int]]:
    """The class table (icon name -> code point) and the glyphs the rules use directly."""
    table = {name: int(cp, 16) for css in styles for selectors, cp in CLASS_GLYPH.findall(css)
             for name in ICON_CLASS.findall(selectors)}
    points: set[int] = set()
    for css in styles:
        # strip the class table, then keep every glyph the rules use directly
        rules = CLASS_GLYPH.sub("", css)
        points |= {ord(ch) for ch in PRIVATE_USE.findall(rules)}
        points |= {int(cp, 16) for cp in CSS_ESCAPE.findall(rules)}
    return table, points


def used_code_points(outdir: Path, cache: Path | None = None) -> set[int]:
    """The code points of the icons the site can show. With ``cache`` (a JSON file), what
    was found in a file is kept by the file's content hash, and the hashes by the files'
    sizes and times (:mod:`handbook_tools.filedigests`), so a rebuild reads only the files
    it changed."""
    old: dict[str, Any] = {}
    if cache is not None:
        kept = read_json(cache, {})
        old = kept if isinstance(kept, dict) else {}
    new: dict[str, Any] = {}
    css_paths = sorted((outdir / "_static").rglob("*.css"))
    blobs = [p.read_bytes() for p in css_paths]
    css_key = "css:" + hashlib.sha256(b"\0".join(blobs)).hexdigest()
    if css_key in old:
        table, points = dict(old[css_key][0]), set(old[css_key][1])
    else:
        table, points = _css_points([b.decode("utf-8", errors="replace") for b in blobs])
    new[css_key] = [sorted([k, v] for k, v in table.items()), sorted(points)]
    names: set[str] = set()
    # fontawesome.js names every icon of the library; the pages do not load it
    content = [path for path in sorted(outdir.rglob("*")) if path.suffix in (".html", ".js")
               and path.name != "fontawesome.js" and path.is_file()]
    record = record_path(cache.parent, outdir, cache.stem) if cache is not None else None
    for path, key in file_digests(outdir, content, record).items():
        found = old.get(key)
        if found is None:
            found = sorted(set(ICON_CLASS.findall(path.read_text(encoding="utf-8",
                                                                 errors="replace"))))
        new[key] = found
        names.update(found)
    if cache is not None and new != old:  # (JSON gives lists, as written)
        write_json(cache, new)
    return points | {table[n] for n in names if n in table}


def subset_icon_font(app: Sphinx, exception: Exception | None) -> None:
    if (exception is not None or app.builder.format != "html"
            or not app.config.handbook_subset_icons):
        return
    font = Path(app.outdir, FONT)
    if not font.is_file():
        return
    import pydata_sphinx_theme

    original = Path(pydata_sphinx_theme.__file__).parent.joinpath(
        "theme", "pydata_sphinx_theme", "static", *FONT.parts[1:])
    source = original if original.is_file() else font
    points = used_code_points(Path(app.outdir),
                              cache_dir(app.env, "icons")
                              / f"icon-names-{app.builder.name}.json")
    key = hashlib.sha256(source.read_bytes() + repr(sorted(points)).encode()).hexdigest()[:16]
    cached = cache_dir(app.env, "icons") / f"fa-solid-900-{key}.woff2"
    if not cached.is_file():
        try:  # imported only to cut: the import alone is a good part of a rebuild's cost
            from fontTools import subset
        except ImportError:  # pragma: no cover - fontTools comes with matplotlib
            return
        cached.parent.mkdir(parents=True, exist_ok=True)
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        try:
            ttfont = subset.load_font(str(source), options)
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=points)
            subsetter.subset(ttfont)
            part = cached.with_suffix(".part")
            subset.save_font(ttfont, str(part), options)
            part.replace(cached)
        except Exception as exc:  # a font fontTools cannot cut stays whole
            logger.info(f"icon font left whole: {exc}")
            return
    shutil.copyfile(cached, font)


def setup_icons(app: Sphinx) -> None:
    app.add_config_value("handbook_subset_icons", True, "html", bool)
    app.connect("build-finished", subset_icon_font)
