"""The extension's switches for the benchmark's stock baseline, and the pybtex lookup cache."""

from __future__ import annotations

from pathlib import Path


def test_baseline_switches_give_stock_mermaid_and_no_checks(clean_project: Path,
                                                            build) -> None:
    page = clean_project / "index.md"
    # an undefined acronym: a glossary check would warn about it
    page.write_text(page.read_text(encoding="utf-8") + "\nThe QXZ said so.\n",
                    encoding="utf-8")
    built = build(clean_project, confoverrides={"handbook_render_diagrams": False,
                                                "handbook_checks": False})
    assert "QXZ" not in built.warnings
    assert built.warnings.strip() == ""
    html = (built.outdir / "index.html").read_text(encoding="utf-8")
    assert 'class="mermaid"' in html  # sphinxcontrib-mermaid's client-side output
    assert "hb-diagram" not in html


def test_switches_are_on_by_default(clean_project: Path, build) -> None:
    page = clean_project / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nThe QXZ said so.\n",
                    encoding="utf-8")
    built = build(clean_project)
    assert "QXZ" in built.warnings
    html = (built.outdir / "index.html").read_text(encoding="utf-8")
    assert "hb-diagram" in html
    assert "cdn.jsdelivr.net" not in html


def test_pybtex_plugins_are_looked_up_once() -> None:
    import pybtex.plugin

    import handbook_tools

    handbook_tools._cache_pybtex_plugin_lookups()
    handbook_tools._cache_pybtex_plugin_lookups()  # idempotent: wraps only once
    lookup = pybtex.plugin.entry_points
    assert hasattr(lookup, "cache_info")
    assert not hasattr(lookup.__wrapped__, "cache_info")
    first = pybtex.plugin.find_plugin("pybtex.backends", "plaintext")
    assert pybtex.plugin.find_plugin("pybtex.backends", "plaintext") is first
    assert first.__name__ == "Backend"


def _unused_rule(css: str) -> bool:
    """A rule of Sphinx's basic.css for markup the small project does not have."""
    return "table.hlist td" in css or "a.biglink" in css


def test_reader_switches_off_give_whole_stylesheets_and_no_copies(clean_project: Path,
                                                                  build) -> None:
    built = build(clean_project, confoverrides={"handbook_precompress": False,
                                                        "handbook_purge_css": False})
    assert built.warnings.strip() == ""
    assert not list(built.outdir.rglob("*.gz")) and not list(built.outdir.rglob("*.br"))
    assert _unused_rule((built.outdir / "_static" / "basic.css").read_text(encoding="utf-8"))


def test_reader_switches_on_cut_the_stylesheets_and_precompress(clean_project: Path,
                                                                build) -> None:
    import gzip

    built = build(clean_project)
    assert built.warnings.strip() == ""
    page = built.outdir / "index.html"
    assert gzip.decompress((built.outdir / "index.html.gz").read_bytes()) == page.read_bytes()
    assert (built.outdir / "index.html.br").is_file()
    css = (built.outdir / "_static" / "basic.css").read_text(encoding="utf-8")
    assert not _unused_rule(css)
    assert "div.body" in css or "div.section" in css  # what the pages use stays
    from handbook_tools.purge import unpurged_dir

    whole = unpurged_dir(built.app.doctreedir) / "basic.css"
    assert _unused_rule(whole.read_text(encoding="utf-8"))  # kept for the browser test
    assert (built.outdir / "_static" / "basic.css.gz").is_file()
