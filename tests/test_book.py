"""The real handbook: strict HTML and PDF builds, offline pages, diagrams, links, the book."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow
SPHINX = [sys.executable, "-m", "sphinx"]
#: the freshness date of the tests: fixed, so a test run does not depend on the calendar
TODAY = "2026-11-25"
PARTS = ["Key takeaways", "History, 2003–2021", "Force posture and mission today",
         "Recent events", "Future scenarios", "Reference", "Glossary", "Chronology",
         "Fact register", "Sources"]


def _env() -> dict[str, str]:
    return dict(os.environ, HANDBOOK_TODAY=TODAY, SOURCE_DATE_EPOCH="1764028800")


def _sphinx(builder: str, out: Path) -> subprocess.CompletedProcess:
    """The strict build of the Makefile, into ``out`` with its own doctrees."""
    return subprocess.run([*SPHINX, "-b", builder, "-n", "-W", "--keep-going", "-q",
                           "-d", str(out.parent / "doctrees"), "docs", str(out)],
                          cwd=REPO, env=_env(), capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("book") / "html"
    return out, _sphinx("html", out)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("book") / "latex"
    proc = _sphinx("latex", out)
    if proc.returncode == 0:
        proc = subprocess.run(["make", "-C", str(out), "all-pdf",
                               "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error -quiet"],
                              env=_env(), capture_output=True, text=True, check=False)
    return out / "handbook.pdf", proc


def test_html_builds_strict_with_zero_warnings(html) -> None:
    out, proc = html
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""
    assert (out / "index.html").is_file()


def test_no_page_loads_anything_from_another_host(html) -> None:
    out, _ = html
    tag = re.compile(r"<(script|link|img|iframe|source)\b[^>]*?\b(src|href)=\"([^\"]+)\"")
    offenders = []
    for page in out.rglob("*.html"):
        for m in tag.finditer(page.read_text(encoding="utf-8")):
            if re.match(r"(https?:)?//", m.group(3)):
                offenders.append((page.name, m.group(3)))
    assert offenders == []
    # nor inline scripts that import from elsewhere (sphinxcontrib-mermaid's CDN loader)
    importing = [p.name for p in out.rglob("*.html")
                 if re.search(r"import[^;]*from\s*[\"']https?://", p.read_text(encoding="utf-8"))]
    assert importing == []


def test_pages_load_only_what_they_use(html) -> None:
    """No 1.5 MB fontawesome.js (the theme's CSS draws its icons); the search scripts and
    index only on the search page (docs/_templates/layout.html)."""
    out, _ = html
    script = re.compile(r"<script\b[^>]*\bsrc=\"([^\"]+)\"")
    loaded = {p.relative_to(out).as_posix(): script.findall(p.read_text(encoding="utf-8"))
              for p in out.rglob("*.html") if not p.relative_to(out).parts[0].startswith("_")}
    assert loaded and all("fontawesome.js" not in s for srcs in loaded.values() for s in srcs)
    searching = sorted(page for page, srcs in loaded.items()
                       if any("searchindex.js" in s for s in srcs))
    assert searching == ["search.html"]


def test_icon_font_keeps_every_icon_the_pages_use(html) -> None:
    from fontTools.ttLib import TTFont

    out, _ = html
    font = out / "_static" / "vendor" / "fontawesome" / "webfonts" / "fa-solid-900.woff2"
    cmap = set(TTFont(str(font)).getBestCmap())
    css = (out / "_static" / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8")
    table = {name: int(cp, 16) for sel, cp in re.findall(r'([^{}]+)\{--fa:"\\([0-9a-f]+)"\}', css)
             for name in re.findall(r"\.fa-([a-z0-9-]+)", sel)}
    used = {name for p in out.rglob("*.html")
            for cls in re.findall(r'class="([^"]*\b(?:fa-solid|fas)\b[^"]*)"',
                                  p.read_text("utf-8"))
            for name in re.findall(r"\bfa-([a-z0-9-]+)", cls) if name in table}
    assert {"magnifying-glass", "bars", "download", "sun", "moon"} <= used
    assert {name for name in used if table[name] not in cmap} == set()
    assert len(cmap) < 100  # cut down: the whole font has about 1,400 icons


def test_mission_diagram_is_inline_svg_with_text_alternative(html) -> None:
    out, _ = html
    page = (out / "history" / "index.html").read_text(encoding="utf-8")
    m = re.search(r'<div id="mission-transitions" class="hb-diagram" role="img" '
                  r'aria-label="([^"]+)">(.*?)</div></div>', page, re.S)
    assert m, "mission diagram missing"
    assert "Operation Inherent Resolve" in m.group(1)
    assert m.group(2).count("<svg") == 2  # light and dark variants
    assert "Operation New Dawn" in m.group(2)


def test_troop_chart_and_its_sources_table(html) -> None:
    out, _ = html
    page = (out / "posture" / "troops.html").read_text(encoding="utf-8")
    assert 'class="hb-diagram hb-chart" role="img"' in page
    assert "Every point of the chart, with its source" in page


def test_glossary_and_fact_links_resolve(html) -> None:
    from handbook_tools.links import broken_links

    out, _ = html
    assert broken_links(out) == []
    takeaways = (out / "takeaways.html").read_text(encoding="utf-8")
    assert 'href="reference/glossary.html#term-ISIS"' in takeaways
    assert re.search(r'href="reference/facts.html#fact-h-invasion-start"', takeaways)


def test_register_lists_every_fact_with_status(html) -> None:
    out, _ = html
    page = (out / "reference" / "facts.html").read_text(encoding="utf-8")
    ids = re.findall(r'<span class="target" id="fact-([^"]+)">', page)
    assert len(ids) > 200
    assert "settled" in page and "current" in page


def test_pdf_is_the_whole_book(pdf) -> None:
    path, proc = pdf
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for part in PARTS:
        assert part in text, part
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    assert "Title:           US Forces in Iraq: A Reference Handbook" in info
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) > 50
    from handbook_tools.cli import main

    assert main(["latexlog", str(path.with_suffix(".log"))]) == 0  # no undefined reference
