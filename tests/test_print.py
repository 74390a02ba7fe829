"""Small pieces of the print and e-reader editions, without a build."""

from __future__ import annotations

from pathlib import Path

from handbook_tools.epub import with_svg_property
from handbook_tools.mermaid import print_size

OPF = """<manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="epub-1" href="history/index.xhtml" media-type="application/xhtml+xml" />
    <item id="epub-2" href="takeaways.xhtml" media-type="application/xhtml+xml" />
    <item id="epub-3" href="_static/x.css" media-type="text/css" />
</manifest>"""


def test_manifest_declares_inline_svg_only_where_there_is_some(tmp_path: Path) -> None:
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "index.xhtml").write_text('<div role="img"><svg viewBox="0 0 1 1">'
                                                      "</svg></div>", encoding="utf-8")
    (tmp_path / "takeaways.xhtml").write_text("<p>SVG is a format; <svgx/> is not svg</p>",
                                             encoding="utf-8")
    out = with_svg_property(OPF, tmp_path)
    assert ('href="history/index.xhtml" media-type="application/xhtml+xml" properties="svg" />'
            in out)
    assert 'href="takeaways.xhtml" media-type="application/xhtml+xml" />' in out
    assert out.count('properties="svg"') == 1 and 'properties="nav"' in out


def test_print_size_is_the_drawn_size_scaled(tmp_path: Path) -> None:
    pdf = tmp_path / "d.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Page /MediaBox [0 0 600 717.12] >>\n")
    assert print_size(pdf, 0.5) == "width=300.0pt,height=358.6pt"
    pdf.write_bytes(b"%PDF-1.4\n")
    assert print_size(pdf) == "width=\\linewidth"
