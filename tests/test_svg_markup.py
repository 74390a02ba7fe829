"""Inline SVG of diagrams and the chart: cache key and HTML-validity clean-up (no build)."""

from __future__ import annotations

from pathlib import Path

from handbook_tools import mermaid, pictures


def test_diagram_cache_key_includes_the_variant_config(monkeypatch) -> None:
    before = mermaid.diagram_hash("flowchart LR\n  A --> B")
    monkeypatch.setitem(mermaid.VARIANT_CONFIG, "dark",
                        {"themeVariables": {"edgeLabelBackground": "#000000"}})
    assert mermaid.diagram_hash("flowchart LR\n  A --> B") != before


def test_diagram_cache_key_includes_the_renderer_script(monkeypatch) -> None:
    before = mermaid.diagram_hash("flowchart LR\n  A --> B")
    monkeypatch.setattr(mermaid, "RENDERER_DIGEST", "an-edited-script")
    assert mermaid.diagram_hash("flowchart LR\n  A --> B") != before


def test_code_version_counts_the_node_scripts(tmp_path) -> None:
    """Sphinx rereads every page when ``env_version`` changes: an edit of
    render-mermaid.mjs must change it, as an edit of a module does."""
    import shutil
    import subprocess
    import sys

    package = Path(mermaid.__file__).parent
    versions = []
    for edit in ("", "// edited\n"):
        copy = tmp_path / f"copy{len(versions)}" / "handbook_tools"
        shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
        script = copy / "render-mermaid.mjs"
        script.write_text(script.read_text(encoding="utf-8") + edit, encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-c", "import handbook_tools, pathlib; "
             "assert pathlib.Path(handbook_tools.__file__).parents[1] == pathlib.Path.cwd(); "
             "print(handbook_tools._code_version())"],
            cwd=copy.parent, env={"PYTHONPATH": str(copy.parent), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, check=True)
        versions.append(out.stdout.strip())
    assert versions[0] and versions[0] != versions[1]


def test_dark_edge_labels_reach_wcag_aa() -> None:
    def luminance(hex_colour: str) -> float:
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    background = mermaid.VARIANT_CONFIG["dark"]["themeVariables"]["edgeLabelBackground"]
    text = "#cccccc"  # Mermaid's dark theme label text
    ratio = (luminance(text) + 0.05) / (luminance(background) + 0.05)
    assert ratio >= 4.5, ratio


MATPLOTLIB_LIKE = """<?xml version="1.0" encoding="utf-8"?>
<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="576pt" role="graphics-document document">
 <metadata>
  <rdf:RDF xmlns:dc="http://purl.org/dc/elements/1.1/"><cc:Work/></rdf:RDF>
 </metadata>
 <defs><path id="m60a5" d="M 0 0"/><clipPath id="p07c5"><rect x="0"/></clipPath></defs>
 <g id="figure_1"><use xlink:href="#m60a5" clip-path="url(#p07c5)"/></g>
 <g><rect/><foreignObject><div><span class="edgeLabel"><p>Label</p></span></div></foreignObject>
 </g>
</svg>
"""


def test_svg_markup_is_valid_inline_html(tmp_path: Path) -> None:
    path = tmp_path / "chart-abc-dark.svg"
    path.write_text(MATPLOTLIB_LIKE, encoding="utf-8")
    svg = pictures._svg_markup(path)
    assert svg.startswith('<svg aria-hidden="true" focusable="false" ')
    assert "<metadata" not in svg and "rdf:" not in svg and "role=" not in svg
    # ids carry the file's prefix, and so do the references to them
    assert 'id="hb-chart-abc-dark-figure_1"' in svg
    assert 'xlink:href="#hb-chart-abc-dark-m60a5"' in svg
    assert 'clip-path="url(#hb-chart-abc-dark-p07c5)"' in svg
    assert 'id="figure_1"' not in svg
    assert '<rect width="0" height="0"/>' in svg
    assert '<div class="edgeLabel"><p>Label</p></div>' in svg


def test_mermaid_ids_keep_their_own_prefix(tmp_path: Path) -> None:
    path = tmp_path / "0123abcd-light.svg"
    path.write_text('<svg id="hb-0123abcd-light"><marker id="hb-0123abcd-light_end"/>'
                    '<path marker-end="url(#hb-0123abcd-light_end)"/></svg>', encoding="utf-8")
    svg = pictures._svg_markup(path)
    assert 'id="hb-0123abcd-light_end"' in svg and "url(#hb-0123abcd-light_end)" in svg
