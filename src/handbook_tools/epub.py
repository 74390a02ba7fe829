"""The EPUB: a package manifest that epubcheck, the reference validator, passes.

EPUB 3 requires every content document holding inline SVG (the diagrams and the chart,
drawn inline as on the web) to say so in the manifest: ``properties="svg"`` on its
``<item>`` (epubcheck's OPF-014). Sphinx's EPUB builder writes no item properties, so
after it has written ``content.opf`` the builder below adds this one, before the book is
zipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from sphinx.application import Sphinx
from sphinx.builders.epub3 import Epub3Builder

#: an XHTML item of the manifest Sphinx writes (content.opf.jinja)
XHTML_ITEM = re.compile(r'<item id="[^"]*" href="([^"]*)" '
                        r'media-type="application/xhtml\+xml" (?=/>)')
INLINE_SVG = re.compile(r"<svg[\s>]")


def with_svg_property(opf: str, outdir: Path) -> str:
    """The manifest with ``properties="svg"`` on each XHTML item whose file has inline SVG."""
    def add(m: re.Match[str]) -> str:
        text = Path(outdir, unquote(m.group(1))).read_text(encoding="utf-8")
        return m.group(0) + 'properties="svg" ' if INLINE_SVG.search(text) else m.group(0)

    return XHTML_ITEM.sub(add, opf)


class HandbookEpub3Builder(Epub3Builder):
    """Sphinx's EPUB 3 builder, declaring inline SVG in the manifest."""

    def build_content(self) -> None:
        super().build_content()
        opf = Path(self.outdir, "content.opf")
        opf.write_text(with_svg_property(opf.read_text(encoding="utf-8"), Path(self.outdir)),
                       encoding="utf-8")


def setup_epub(app: Sphinx) -> None:
    app.add_builder(HandbookEpub3Builder, override=True)
