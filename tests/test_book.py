"""The real handbook: strict HTML and PDF builds, offline pages, diagrams, links, the book."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from html import unescape as html_unescape
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import PAGES_ONLY, REPO, Book, book_env, picture, seeded_cache, sphinx_book

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("book")]
PARTS = ["Key takeaways", "History, 2003–2021", "Force posture and mission today",
         "Recent events", "Future scenarios", "Reference", "Glossary", "Chronology",
         "Fact register", "Sources"]


def _sphinx(builder: str, out: Path, **env: str) -> subprocess.CompletedProcess:
    """The strict build of the Makefile, into ``out`` with its own doctrees."""
    return sphinx_book(builder, out, out.parent / f"doctrees-{builder}", book_env(**env))


@pytest.fixture(scope="module")
def html(real_book: Book) -> tuple[Path, subprocess.CompletedProcess]:
    """The clean HTML build of conftest's ``real_book`` (test_repro builds it again)."""
    return real_book.root / "html", real_book.html


@pytest.fixture(scope="module")
def pdf(real_book: Book) -> tuple[Path, subprocess.CompletedProcess]:
    return real_book.root / "latex" / "handbook.pdf", real_book.pdf


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
                  r'aria-label="([^"]+)">(<div class="only-light">.*?</svg></div>'
                  r'<div class="only-dark">.*?</svg></div>)</div>', page, re.S)
    assert m, "mission diagram missing"
    assert "Operation Inherent Resolve" in m.group(1)
    assert m.group(2).count("<svg") == 2  # light and dark variants
    assert "Operation New Dawn" in m.group(2)


def test_troop_chart_and_its_sources_table(html) -> None:
    out, _ = html
    page = (out / "posture" / "troops.html").read_text(encoding="utf-8")
    assert 'class="hb-diagram hb-chart" role="img"' in page
    assert "Every point of the chart, with its source" in page
    # no US combat force in Iraq, December 2011 to June 2014: the line breaks there, in two
    # runs (of the light and of the dark chart) joined by nothing across the gap
    alt, svg = picture(page, "hb-diagram hb-chart")
    assert "The line breaks for December 2011 \u2013 June 2014: no US combat force in Iraq." \
        in alt
    light = svg.split('<div class="only-dark">')[0]
    runs = re.findall(r'<path d="([^"]*)"[^>]*style="fill: none; stroke: #1f5fa8; '
                      r'stroke-width: 1.8', light)
    assert len(runs) == 2, runs
    last_before = float(re.findall(r"([\d.]+) [\d.]+\s*$", runs[0])[0])
    first_after = float(re.match(r"M ([\d.]+)", runs[1]).group(1))
    assert first_after - last_before > 40  # 2011-12 to 2014-10, about 30 px a year
    assert "No US combat force in Iraq" in light and "December 2011 \u2013 June 2014" in light
    rows = [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)]
    gap_rows = [r for r in rows if "not charted" in r]
    assert gap_rows and gap_rows[0].startswith(
        "18 December 2011 \u2013 19 June 2014 not charted: no US combat force in Iraq")


# ---------------------------------------------------------------------------- a shared link

BASE_URL = "https://handbook.example/iraq"  # never requested: only written into the pages


def _meta(page: str) -> dict[str, str]:
    return dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', page))


def test_pages_have_favicon_and_description_but_no_sitemap_without_base_url(html) -> None:
    out, _ = html
    page = (out / "posture" / "troops.html").read_text(encoding="utf-8")
    assert '<link rel="icon" href="../_static/favicon.svg"/>' in page
    assert (out / "_static" / "favicon.svg").is_file()
    meta = _meta(page)
    # the page's first paragraph, not the freshness line above it
    assert meta["description"].startswith("In brief. From 2021 to 2024 the United States")
    assert meta["og:description"] == meta["description"]
    # a shared link's title is the page's, without the book's section number "3.1."
    assert meta["og:title"] == "US troop levels in Iraq"
    assert re.search(r"<title>\d+\.\d+\. US troop levels in Iraq &#8212;", page)
    assert "og:image" not in meta  # an image needs an absolute address: HANDBOOK_BASE_URL
    assert not (out / "sitemap.xml").exists()
    assert 'rel="canonical"' not in page
    assert not (out / "_images" / "social_previews").exists()  # no per-page cards drawn


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, real_book: Book
              ) -> tuple[Path, subprocess.CompletedProcess]:
    """The HTML site built for its address: HANDBOOK_BASE_URL set (no slash at the end);
    a clean build, with a copy of ``real_book``'s cache (its pictures are drawn already)."""
    root = tmp_path_factory.mktemp("published")
    out = root / "html"
    return out, sphinx_book("html", out, root / "doctrees-html",
                            book_env(seeded_cache(real_book, root / "cache"),
                                     HANDBOOK_BASE_URL=BASE_URL))


@pytest.mark.xdist_group("book-published")  # its own build: another worker may take it
def test_with_base_url_social_cards_canonical_links_and_sitemap(published) -> None:
    out, proc = published
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""
    page = (out / "posture" / "troops.html").read_text(encoding="utf-8")
    meta = _meta(page)
    assert meta["og:url"] == f"{BASE_URL}/posture/troops.html"
    assert meta["og:image"] == f"{BASE_URL}/_static/social-card.png"
    assert (out / "_static" / "social-card.png").is_file()
    assert meta["description"].startswith("In brief.")
    assert f'<link rel="canonical" href="{BASE_URL}/posture/troops.html" />' in page
    sitemap = ElementTree.parse(out / "sitemap.xml").getroot()
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert f"{BASE_URL}/index.html" in locs and f"{BASE_URL}/posture/troops.html" in locs
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")
             if not p.relative_to(out).as_posix().startswith("_static/")}
    assert {loc.removeprefix(BASE_URL + "/") for loc in locs} <= pages
    assert len(locs) == len(set(locs)) > 30
    if (REPO / ".git").exists():  # each page's last commit date (sphinx-last-updated-by-git)
        lastmods = [e.text or "" for e in sitemap.iter(
            "{http://www.sitemaps.org/schemas/sitemap/0.9}lastmod")]
        assert 30 < len(lastmods) <= len(locs)
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d) for d in lastmods)
    # an address written into a page is not a load: still nothing fetched from elsewhere
    tag = re.compile(r"<(script|link|img|iframe|source)\b[^>]*?\b(src|href)=\"([^\"]+)\"")
    loads = [m.group(0) for p in out.rglob("*.html")
             for m in tag.finditer(p.read_text(encoding="utf-8"))
             if re.match(r"(https?:)?//", m.group(3)) and 'rel="canonical"' not in m.group(0)]
    assert loads == []


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
    ids = re.findall(r'<tr class="row-(?:even|odd)" id="fact-([^"]+)">', page)
    assert len(ids) > 200
    assert "settled" in page and "current" in page


def test_register_has_one_section_a_fact_file_each_fact_once(html) -> None:
    """The register's sections follow docs/reference/facts.md; every fact of the data is in
    exactly one row, in the section of its file, at its anchor ``#fact-<id>``."""
    from bs4 import BeautifulSoup

    from handbook_tools.facts import anchor
    from handbook_tools.register import topic_of
    from handbook_tools.registry import fact_files, load_registry

    out, _ = html
    data = REPO / "docs" / "_data"
    reg = load_registry(data, [data / "sources.bib"])
    soup = BeautifulSoup((out / "reference" / "facts.html").read_text(encoding="utf-8"),
                         "html.parser")
    sections = soup.select("section section[id^='facts-']")
    directive = (REPO / "docs" / "reference" / "facts.md").read_text(encoding="utf-8")
    order = re.findall(r"^(\w+): ", directive.split("```{fact-register}")[1], re.M)
    assert [s["id"] for s in sections] == [f"facts-{stem}" for stem in order]
    assert sorted(order) == sorted(p.stem for p in fact_files(data))
    where = {t["id"]: s["id"] for s in sections
             for t in s.select("table.hb-register tr[id^='fact-']")}
    rows = soup.select("table.hb-register tr[id^='fact-']")
    assert len(rows) == len(where) == len(reg.facts)
    assert where == {anchor(f.id): f"facts-{topic_of(f)}" for f in reg.facts.values()}
    assert all(s.select_one("div.hb-register-part > table.hb-register") for s in sections)


def test_readers_see_standing_and_the_search_horizon(html) -> None:
    """Every source in the list ends with its publisher and standing; the register gives
    each fact's best standing; the method page states the search horizon of conf.py."""
    out, _ = html
    sources = (out / "reference" / "sources.html").read_text(encoding="utf-8")
    # role "listitem", not DPUB-ARIA's deprecated "doc-biblioentry" (handbook_tools.aria)
    assert 'role="doc-biblioentry"' not in sources
    entries = re.findall(r'<div class="citation" id="id\d+" role="listitem">', sources)
    marks = re.findall(r"Publisher: [^<]+\. Standing: <em>(official|major|established|weak|"
                       r"deprecated)</em>\.", sources)
    assert len(marks) == len(entries) > 300
    assert "repost of Reuters. Standing: <em>major</em>." in sources
    register = (out / "reference" / "facts.html").read_text(encoding="utf-8")
    assert register.count("best source: <span") == len(
        re.findall(r'<tr class="row-(?:even|odd)" id="fact-', register))
    method = (out / "reference" / "method.html").read_text(encoding="utf-8")
    assert 'searched up to <span class="hb-search-horizon">3 December 2026</span>' in method
    takeaways = (out / "takeaways.html").read_text(encoding="utf-8")
    assert 'id="hb-card-fact-h-invasion-start" role="dialog"' in takeaways


def _footer_date(page: str) -> str | None:
    m = re.search(r'<p class="last-updated">\s*Last updated on ([^<]*?)\.\s*<br/>', page)
    return m.group(1) if m else None


def test_pages_show_the_date_of_their_last_commit(html) -> None:
    """In a git checkout, each page's footer dates its last commit (sphinx-last-updated-by-
    git), not the build; the register's data files do not count (docs/conf.py)."""
    import datetime as dt

    out, _ = html
    page = (out / "takeaways.html").read_text(encoding="utf-8")
    stamp = subprocess.run(["git", "log", "-1", "--format=%at", "-m", "--author-date-order",
                            "--", "docs/takeaways.md"], cwd=REPO, capture_output=True,
                           text=True, check=False).stdout.strip()
    if not stamp:  # not a git checkout (a source archive): no date rather than the build's
        assert _footer_date(page) is None
        return
    day = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
    assert _footer_date(page) == day.strftime("%d %B %Y")
    assert f'<meta property="article:modified_time" content="{day.isoformat()}" />' in page


def test_pdf_is_the_whole_book(pdf) -> None:
    path, proc = pdf
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for part in PARTS:
        assert part in text, part
    flat = " ".join(text.split())
    assert "Standing: major." in flat and "best source: official" in flat  # the register
    assert "searched up to 3 December 2026" in flat
    assert "About this edition Edition 2025.11.25 (25 November 2025) Built from commit" in flat
    assert "This edition:" not in flat  # the web's one sentence: the PDF has the whole page
    assert "Cite this handbook" in flat and "@book{iraqhandbook20251125," in flat
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    assert "Title:           US Forces in Iraq: A Reference Handbook" in info
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) > 50
    from handbook_tools.cli import main

    assert main(["latexlog", str(path.with_suffix(".log"))]) == 0  # no undefined reference


# ---------------------------------------------------------------------------- the PDF as a book
# Read with pypdf: the outline (bookmarks), page labels, link annotations and metadata that
# pdftotext does not show.

CHAPTERS = ["Key takeaways", "History, 2003–2021", "Force posture and mission today",
            "Recent events", "Future scenarios for the US military presence in Iraq",
            "Reference"]
#: sections of the Reference chapter a reader looks up, each with a line it must show
REFERENCE = {"Glossary": "Advise, assist and enable", "Chronology": "20 March 2003",
             "Fact register": "settled", "Sources": ""}


@pytest.fixture(scope="module")
def book(pdf):
    pypdf = pytest.importorskip("pypdf")
    path, proc = pdf
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return pypdf.PdfReader(path)


def _outline(reader) -> list[tuple[str, int, list]]:
    """The bookmarks as (title, page index, children)."""
    out: list[tuple[str, int, list]] = []
    for item in reader.outline:
        if isinstance(item, list):
            out[-1] = (out[-1][0], out[-1][1], item)
        else:
            out.append((item.title, reader.get_destination_page_number(item), []))
    return out


def _text(reader, first: int, last: int) -> str:
    return "\n".join(reader.pages[i].extract_text() for i in range(first, last))


def test_pdf_title_page_and_metadata(book, pdf) -> None:
    meta = book.metadata
    assert meta.title == "US Forces in Iraq: A Reference Handbook"
    assert meta.author == "The Iraq Handbook contributors"
    # the build date is SOURCE_DATE_EPOCH's (2025-11-25), in the metadata and on the title page
    assert meta.creation_date.strftime("%Y-%m-%d") == "2025-11-25", meta.creation_date
    title_page = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf[0]), "-"],
                                capture_output=True, text=True, check=True).stdout
    assert " ".join(title_page.split()) == ("US Forces in Iraq: A Reference Handbook "
                                            "The Iraq Handbook contributors 25 November 2025")


def _edition_fields(html_page: str) -> list[tuple[str, str]]:
    """(name, value) of each field of the edition summary of a built page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_page, "html.parser")
    box = soup.select_one("dl.hb-edition")
    assert box is not None
    names = [" ".join(dt.get_text().split()).rstrip(" :") for dt in box.find_all("dt")]
    values = [" ".join(dd.get_text().split()) for dd in box.find_all("dd")]
    return list(zip(names, values, strict=True))


def test_pdf_front_matter_is_the_edition_page(html, pdf) -> None:
    """The back of the title page, before the contents: the edition page's summary (the
    same fields and values as the web's edition page) and the citation."""
    out, _ = html
    path, proc = pdf
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    page2 = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(path), "-"],
                           capture_output=True, text=True, check=True).stdout
    flat = " ".join(page2.split())
    assert flat.startswith("About this edition Edition 2025.11.25 (25 November 2025)"), flat
    fields = _edition_fields((out / "reference" / "edition.html").read_text(encoding="utf-8"))
    assert [n for n, _ in fields] == ["Edition", "Built from commit", "Sources searched up to",
                                      "Facts", "Sources", "Licence"]
    for name, value in fields:
        assert f"{name} {value}" in flat, (name, value)
    assert "3 December 2026; nothing published after that day" in flat
    assert "CC BY 4.0" in flat and "the book MIT" in flat
    assert "(2025). US Forces in Iraq: A Reference Handbook (edition 2025.11.25)." in flat
    assert "@book{iraqhandbook20251125," in flat and "licence CC-BY-4.0}," in flat  # no wrap
    page3 = subprocess.run(["pdftotext", "-f", "3", "-l", "3", str(path), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert page3.split()[0] == "CONTENTS", page3[:200]


def test_pdf_numbered_chapters_in_bookmarks_and_contents(book) -> None:
    outline = _outline(book)
    assert [t for t, _, _ in outline] == [*CHAPTERS, "Bibliography"]
    labels = book.page_labels
    # the contents: front-matter pages (roman numbers) listing "N Title page" per chapter
    front = [i for i, label in enumerate(labels) if re.fullmatch(r"[ivx]+", label)]
    assert front, labels[:10]
    contents = _text(book, front[0], front[-1] + 1)
    assert contents.lstrip().upper().startswith("CONTENTS")
    for n, (title, page, _) in enumerate(outline, start=1):
        number = "" if title == "Bibliography" else f"{n} "
        m = re.search(rf"^{re.escape(number + title)} (\d+)$", contents, re.M)
        assert m, f"contents has no line '{number}{title} <page>'"
        # the page number printed in the contents is the page the bookmark opens
        assert m.group(1) == labels[page], (title, m.group(1), labels[page])
        if number:
            heading = book.pages[page].extract_text()
            assert heading.lstrip().upper().startswith("CHAPTER"), (title, heading[:80])
    # the sections of a chapter are numbered too
    assert re.search(r"^2\.1 The 2003 invasion and the occupation authority\b", contents, re.M)


def test_pdf_reference_sections_have_bookmarks_and_content(book, pdf) -> None:
    outline = _outline(book)
    reference = next(children for title, _, children in outline if title == "Reference")
    sections = [(item.title, book.get_destination_page_number(item))
                for item in reference if not isinstance(item, list)]
    titles = [t for t, _ in sections]
    for name in REFERENCE:
        assert name in titles, titles
    for title, start in sections:  # each section shows its kind of entry on its first pages
        if REFERENCE.get(title):
            assert REFERENCE[title] in _text(book, start, start + 2), title
    # the bibliography: numbered entries, as many as the citations [n] in the text use
    bib_start = next(p for t, p, _ in outline if t == "Bibliography")
    bib = _text(book, bib_start, len(book.pages))
    entries = [int(n) for n in re.findall(r"^\[(\d+)\]", bib, re.M)]
    assert len(entries) > 100 and entries == list(range(1, len(entries) + 1))
    body = subprocess.run(["pdftotext", "-l", str(bib_start), str(pdf[0]), "-"],
                          capture_output=True, text=True, check=True).stdout
    cited = {int(n) for group in re.findall(r"\[(\d+(?:, \d+)*)\]", body)
             for n in group.split(", ")}
    assert len(cited) > 100 and max(cited) <= len(entries)


def test_pdf_internal_links_land_inside_the_book(book) -> None:
    names = book.named_destinations
    internal, broken = 0, []
    glossary_links = 0
    outline = _outline(book)
    reference = next(children for title, _, children in outline if title == "Reference")
    glossary = next(book.get_destination_page_number(i) for i in reference
                    if not isinstance(i, list) and i.title == "Glossary")
    takeaways_pages = range(outline[0][1], outline[1][1])
    for index, page in enumerate(book.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            action = action.get_object() if action is not None else None
            dest = annot.get("/Dest")
            if action is not None and action.get("/S") == "/GoTo":
                dest = action.get("/D")
            if dest is None:
                continue  # a URI link to a source
            internal += 1
            if str(dest) not in names:
                broken.append((index, str(dest)))
                continue
            target = book.get_destination_page_number(names[str(dest)])
            if index in takeaways_pages and glossary <= target < glossary + 5:
                glossary_links += 1
    assert internal > 1000, internal
    assert broken == [], broken[:10]
    assert glossary_links >= 3, "the key takeaways link their terms to the glossary"


# ---------------------------------------------------------------------------- pictures in print

#: the smallest text a diagram or the chart may print at: body text is 11 pt
MIN_PICTURE_TEXT_PT = 7.0


def _picture_pages(reader) -> list[int]:
    """1-based numbers of the pages that hold an included vector picture (a Form XObject:
    graphicx includes every diagram and chart PDF as one)."""
    found = []
    for number, page in enumerate(reader.pages, start=1):
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        if xobjects and any(x.get_object().get("/Subtype") == "/Form"
                            for x in xobjects.get_object().values()):
            found.append(number)
    return found


def _word_heights(pdf: Path, page: int) -> list[tuple[float, str]]:
    """(height in pt, word) of every word on a page, from ``pdftotext -bbox``."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf),
                          "-"], capture_output=True, text=True, check=True).stdout
    return sorted((float(m.group(2)) - float(m.group(1)), html_unescape(m.group(3))) for m in
                  re.finditer(r'<word [^>]*yMin="([\d.]+)" [^>]*yMax="([\d.]+)">([^<]*)</word>',
                              out))


def test_pdf_diagrams_print_legibly_as_vectors(book, pdf) -> None:
    """Every diagram and the chart: text of 7 pt or more on the A4 page, kept as text (the
    words are found by pdftotext), and no raster image anywhere in the book."""
    pages = _picture_pages(book)
    assert len(pages) >= 3, pages  # mission diagram, troop chart, scenario diagram
    text = {p: " ".join(subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(pdf[0]),
                                        "-"], capture_output=True, text=True,
                                       check=True).stdout.split()) for p in pages}
    for label in ("Operation New Dawn", "Advisory partnership", "US troops in Iraq"):
        assert any(label in t for t in text.values()), f"{label!r} is not text on {pages}"
    for page in pages:
        smallest = _word_heights(pdf[0], page)[:3]
        assert smallest[0][0] >= MIN_PICTURE_TEXT_PT, (page, smallest)
    images = subprocess.run(["pdfimages", "-list", str(pdf[0])], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert images[2:] == [], images[:6]  # two header lines, then one line an image


# ---------------------------------------------------------------------------- the EPUB


def test_edition_page_and_data_downloads(html) -> None:
    """The edition page (edition, commit, counts, citation from CITATION.cff, what changed)
    and the data downloads, whose values are the register's as the package loads it."""
    import csv
    import json

    import yaml

    from handbook_tools.publishers import attributions, best_standing, load_all

    out, _ = html
    page = (out / "reference" / "edition.html").read_text(encoding="utf-8")
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Edition : 2025.11.25 (25 November 2025)" in text
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
    assert f"Built from commit : {commit}" in text
    reg, pubs = load_all(REPO / "docs" / "_data", [REPO / "docs" / "_data" / "sources.bib"])
    assert f"{len(reg.facts)} facts, by the standing of their best source: " in text
    assert f"{len(reg.sources)} sources, by standing: " in text
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert f"{cff['title']} (edition 2025.11.25)." in text
    assert "@book{iraqhandbook20251125," in re.sub(r"<[^>]+>", "", page)  # highlighted
    assert ("This is the first tagged edition" in text or "Compared with the edition tagged"
            in text or "not built from a git checkout" in text)
    for name in ("us-troops-iraq.csv", "facts.csv", "facts.json", "sources.bib"):
        assert f'href="../data/{name}"' in page, name
    troops = (out / "posture" / "troops.html").read_text(encoding="utf-8")
    assert 'href="../data/us-troops-iraq.csv"' in troops
    # the per-fact anchor the page documents, for the fact it names
    assert "reference/facts.html#fact-p-troops-2024-09" in text
    assert 'id="fact-p-troops-2024-09"' in (out / "reference" / "facts.html").read_text(
        encoding="utf-8")
    assert 'href="../data/facts.csv"' in (out / "reference" / "facts.html").read_text(
        encoding="utf-8")
    data = out / "data"
    atts = attributions(reg, pubs) if pubs else {}
    doc = json.loads((data / "facts.json").read_text(encoding="utf-8"))
    assert doc["license"] == "CC-BY-4.0" and doc["edition"] == "2025.11.25"
    rows = list(csv.DictReader((data / "facts.csv").open(encoding="utf-8", newline="")))
    assert [r["id"] for r in rows] == [f["id"] for f in doc["facts"]] == sorted(reg.facts)
    for row, rec in zip(rows, doc["facts"], strict=True):
        fact = reg.facts[row["id"]]
        assert row["value"] == rec["value"] == str(fact.value), fact.id
        assert row["as_of"] == rec["as_of"] == fact.as_of.iso()
        assert rec["number"] == fact.number
        assert row["standing"] == rec["standing"] == (best_standing(fact, atts) or "")
        assert [s["url"] for s in rec["sources"]] == [reg.sources[k].url for k in fact.sources]
        assert rec["excerpt"] == fact.excerpt.strip()
    series = list(csv.DictReader((data / "us-troops-iraq.csv").open(encoding="utf-8",
                                                                     newline="")))
    points = reg.series("us-troops-iraq")
    assert len(series) == len(points) > 10
    assert [(r["date"], float(r["us_troops"]), r["fact_id"]) for r in series] == [
        (f.as_of.iso(), f.number, f.id) for f in points]
    assert (data / "sources.bib").read_bytes() == (REPO / "docs/_data/sources.bib").read_bytes()
    assert "CC-BY-4.0" in (data / "README.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def epub(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("book") / "epub"
    return out, _sphinx("epub", out)


@pytest.mark.xdist_group("book-epub")
def test_epub_builds_strict_and_is_a_valid_container(epub) -> None:
    out, proc = epub
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""
    [book] = out.glob("*.epub")
    with zipfile.ZipFile(book) as z:
        first = z.infolist()[0]
        # the OCF rule: "mimetype" first, stored uncompressed, holding exactly this
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/epub+zip"
        assert z.testzip() is None
        names = z.namelist()
        assert "META-INF/container.xml" in names
        # every document parses as XML: e-readers reject malformed XHTML (inline SVG too)
        for name in names:
            if name.endswith((".xhtml", ".opf", ".ncx")):
                ElementTree.fromstring(z.read(name))
        opf = z.read("content.opf").decode("utf-8")
        spine = re.findall(r'<itemref idref="([^"]+)"', opf)
        hrefs = dict(re.findall(r'<item id="([^"]+)" href="([^"]+)"', opf))
        reading_order = [hrefs[i] for i in spine]
        for chapter in ("takeaways.xhtml", "history/index.xhtml", "posture/troops.xhtml",
                        "events/index.xhtml", "future/scenarios.xhtml",
                        "reference/glossary.xhtml", "reference/facts.xhtml"):
            assert chapter in reading_order, chapter
        nav = z.read("nav.xhtml").decode("utf-8")
        for part in PARTS:
            assert part in nav, part
        # one diagram per diagram: the light SVG only (no theme switch in e-readers), of the
        # layout drawn for a small page
        history = z.read("history/index.xhtml").decode("utf-8")
        assert history.count("<svg ") == 1 and "-ereader" in history
        assert "Operation New Dawn" in history
        # a page with inline SVG says so in the manifest, a page without does not
        svg_items = set(re.findall(r'<item id="[^"]+" href="([^"]+)" '
                                   r'media-type="application/xhtml\+xml" properties="svg" />',
                                   opf))
        assert {"history/index.xhtml", "posture/troops.xhtml",
                "future/scenarios.xhtml"} <= svg_items
        assert "takeaways.xhtml" not in svg_items


@pytest.mark.xdist_group("book-epub")
def test_epub_passes_epubcheck(epub) -> None:
    """epubcheck, the reference validator (Debian's package): no error, no warning."""
    out, proc = epub
    assert proc.returncode == 0, proc.stderr
    jar = shutil.which("epubcheck")
    if jar is None or shutil.which("java") is None:
        pytest.skip("epubcheck or java missing: make setup installs them")
    [book] = out.glob("*.epub")
    check = subprocess.run(["java", "-jar", jar, str(book)], capture_output=True, text=True,
                           timeout=300, check=False)
    report = check.stdout + check.stderr
    assert check.returncode == 0, report[-3000:]
    assert "Messages: 0 fatals / 0 errors / 0 warnings" in report, report[-3000:]


def _edit_fact(docs: Path, fact_id: str, old: str, new: str) -> None:
    """Replace text inside ONE fact record of the copied register, and nothing else."""
    for path in (docs / "_data" / "facts").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        start = text.find(f"- id: {fact_id}\n")
        if start < 0:
            continue
        end = text.find("\n- id: ", start + 1)
        end = len(text) if end < 0 else end
        record = text[start:end]
        assert old in record, (fact_id, old)
        path.write_text(text[:start] + record.replace(old, new) + text[end:], encoding="utf-8")
        return
    raise AssertionError(f"no fact {fact_id}")


@pytest.mark.xdist_group("book-edit")
def test_one_date_in_the_register_changes_the_book(tmp_path: Path, real_book: Book) -> None:
    """In a copy of the real book, one edit of one fact changes the generated pictures and
    tables in the next incremental build (the first build starts from a copy of
    ``real_book``'s cache: the edits' pictures are the only ones drawn). A mission
    boundary (the end of major combat) moves the mission diagram, the chronology and the
    text; the troop chart does not use mission dates, so a point of its series (the
    January 2021 troop level) is moved too: it changes the chart, its table, the
    chronology and the text."""
    docs = tmp_path / "docs"
    shutil.copytree(REPO / "docs", docs, ignore=shutil.ignore_patterns("_build"))
    out = tmp_path / "html"
    cache = seeded_cache(real_book, tmp_path / "cache")

    def build() -> dict[str, str]:
        # the copy has no ../tools/node_modules beside it: name the repository's
        proc = sphinx_book("html", out, tmp_path / "doctrees", book_env(cache), "-D",
                           f"handbook_node_modules={REPO / 'tools' / 'node_modules'}",
                           *PAGES_ONLY, docs=docs)
        assert proc.returncode == 0, proc.stderr
        pages = ["history/index.html", "reference/chronology.html", "posture/troops.html",
                 "history/invasion.html", "history/advise-assist.html"]
        return {p: (out / p).read_text(encoding="utf-8") for p in pages}

    first = build()
    # outside git (the strict build above warned about nothing): no "last updated" date,
    # rather than the build's
    assert all(_footer_date(page) is None for page in first.values())
    assert "Last updated" not in first["history/index.html"]
    mission_alt, mission_svg = picture(first["history/index.html"], "hb-diagram")
    chart_alt, chart_svg = picture(first["posture/troops.html"], "hb-diagram hb-chart")
    assert "Invasion (major combat operations), March 2003 \u2013 May 2003." in mission_alt
    assert "<p>1 May 2003</p>" in first["reference/chronology.html"]
    assert "<p>15 January 2021</p>" in first["reference/chronology.html"]
    assert "January 2021: 2,500" in chart_alt

    _edit_fact(docs, "h.invasion.mission-accomplished", "1 May 2003", "1 June 2003")
    _edit_fact(docs, "h.invasion.mission-accomplished", "as_of: 2003-05-01",
               "as_of: 2003-06-01")
    second = build()
    alt, svg = picture(second["history/index.html"], "hb-diagram")
    assert "Invasion (major combat operations), March 2003 \u2013 June 2003." in alt
    assert "May 2003 \u2013 August 2010" not in alt and "June 2003 \u2013 August 2010" in alt
    assert svg != mission_svg and "June 2003" in svg
    assert "1 June 2003" in second["reference/chronology.html"]
    assert "1 May 2003" not in second["reference/chronology.html"]
    assert "1 June 2003" in second["history/invasion.html"]
    assert picture(second["posture/troops.html"], "hb-diagram hb-chart") == (chart_alt,
                                                                             chart_svg)

    _edit_fact(docs, "oir.troops.2021-01", "as_of: 2021-01-15", "as_of: 2021-02-15")
    third = build()
    new_chart_alt, new_chart_svg = picture(third["posture/troops.html"], "hb-diagram hb-chart")
    assert "February 2021: 2,500" in new_chart_alt and "January 2021: 2,500" not in new_chart_alt
    assert new_chart_svg != chart_svg
    assert "15 February 2021" in third["posture/troops.html"]  # the chart's table of points
    assert "<p>15 February 2021</p>" in third["reference/chronology.html"]  # the date cell
    assert "<p>15 January 2021</p>" not in third["reference/chronology.html"]
    assert "(as of February 2021)" in third["history/advise-assist.html"]


@pytest.mark.xdist_group("book-shallow")  # its own build: another worker may take it
def test_shallow_clone_builds_cleanly_with_the_dates_it_has(tmp_path: Path,
                                                           real_book: Book) -> None:
    """A copy of the book in a git repository of two commits (1 January 2025: everything;
    1 February 2025: the key takeaways), cloned with --depth 2: the strict build warns
    about nothing; the takeaways page shows its commit's date; pages last changed by the
    first commit, whose history the clone cut, show none (not a wrong one)."""
    origin = tmp_path / "origin"
    shutil.copytree(REPO / "docs", origin / "docs", ignore=shutil.ignore_patterns("_build"))
    shutil.copy(REPO / "CITATION.cff", origin / "CITATION.cff")

    def git(*args: str, cwd: Path = origin, date: str = "2025-01-01T12:00:00Z") -> None:
        env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
                   GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "everything")
    takeaways = origin / "docs" / "takeaways.md"
    takeaways.write_text(takeaways.read_text(encoding="utf-8") + "\nA new line.\n",
                         encoding="utf-8")
    git("commit", "-q", "-am", "takeaways", date="2025-02-01T12:00:00Z")
    clone = tmp_path / "clone"
    git("clone", "-q", "--depth", "2", origin.as_uri(), str(clone), cwd=tmp_path)
    out = tmp_path / "html"
    # the clone has no ../tools/node_modules beside it: name the repository's
    proc = sphinx_book("html", out, tmp_path / "doctrees",
                       book_env(seeded_cache(real_book, tmp_path / "cache")), "-D",
                       f"handbook_node_modules={REPO / 'tools' / 'node_modules'}",
                       *PAGES_ONLY, docs=clone / "docs")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert _footer_date((out / "takeaways.html").read_text(encoding="utf-8")) == \
        "01 February 2025"
    assert _footer_date((out / "history" / "index.html").read_text(encoding="utf-8")) is None
