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
