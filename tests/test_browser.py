"""Drive the built site (build/html) in the Debian Chromium through Playwright.

Run with ``pytest -m browser tests/test_browser.py``. The tests skip when the site has not
been built (``make html``); they never download a browser and never leave 127.0.0.1.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from handbook_tools.localserver import serve_folder

REPO = Path(__file__).resolve().parent.parent
HTML = REPO / "build" / "html"
AXE = REPO / "tools" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]

# one browser and one server for the module: one worker of `pytest -n` runs it all
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

if not (HTML / "index.html").is_file():
    pytest.skip("build/html/index.html does not exist; run `make html` first",
                allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

# Every page of the site, except the theme's template fragments under _static.
PAGES = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
               if not p.relative_to(HTML).as_posix().startswith("_static/"))

DIAGRAM_PAGES = ["history/index.html", "future/scenarios.html", "posture/troops.html"]
AXE_PAGES = ["index.html", "takeaways.html", "history/index.html", "posture/troops.html",
             "reference/glossary.html", "reference/facts.html", "reference/sources.html"]

# axe rules allowed to report serious/critical violations, each because of the theme
# (sphinx-book-theme / pydata-sphinx-theme markup), not because of the handbook's content.
AXE_ALLOWED: dict[str, str] = {
    # sphinx-book-theme's sidebar navigation: each <details><summary> holds only an icon-font
    # chevron (role="presentation"), so the expand/collapse toggle has no accessible name.
    "summary-name": "theme sidebar toggles: <summary> contains only a chevron icon",
}


def _mode_script(mode: str) -> str:
    """Store the reader's choice the way pydata-sphinx-theme's theme switcher does."""
    return (f"try {{ localStorage.setItem('mode', '{mode}');"
            f" localStorage.setItem('theme', '{mode}'); }} catch (e) {{}}")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_folder(HTML) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _context(browser, mode: str = "light", **kwargs):
    ctx = browser.new_context(color_scheme=mode, **kwargs)
    ctx.add_init_script(_mode_script(mode))
    return ctx


@pytest.fixture
def light_page(browser) -> Iterator[object]:
    ctx = _context(browser, "light")
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def _local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.scheme in ("http", "https") and parts.hostname == "127.0.0.1"


# ---------------------------------------------------------------------------- 1. every page


def _favicon_cancelled(request) -> bool:
    """Chromium fetches the favicon late, at low priority, and cancels that fetch
    (net::ERR_ABORTED) when the test moves to the next page: the browser's own cancellation,
    not a failure of the site. A favicon that is missing still fails these tests (an HTTP
    error is recorded from the response), and test_book checks that every page names it and
    that the file is built."""
    return request.url.endswith("/_static/favicon.svg") and request.failure == "net::ERR_ABORTED"


def test_every_page_loads_cleanly_and_offline(browser, server):
    # A fresh profile, as a first-time reader has: no theme choice in localStorage. (Without
    # html_context["default_mode"] the theme logs "Got invalid theme mode: ." here.)
    ctx = browser.new_context()
    page = ctx.new_page()
    errors: list[str] = []
    requests: list[str] = []
    current = {"page": ""}
    page.on("console", lambda m: errors.append(f"{current['page']}: console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{current['page']}: pageerror: {e}"))
    page.on("request", lambda r: requests.append(f"{current['page']} -> {r.url}"))
    page.on("requestfailed", lambda r: None if _favicon_cancelled(r) else errors.append(
        f"{current['page']}: request failed {r.url}: {r.failure}"))
    # no 404 either, the favicon's included: the site names its own (html_favicon), so the
    # browser never guesses /favicon.ico
    page.on("response", lambda r: errors.append(f"{current['page']}: HTTP {r.status} {r.url}")
            if r.status >= 400 else None)
    try:
        assert len(PAGES) > 20, PAGES
        for rel in PAGES:
            current["page"] = rel
            resp = page.goto(server + rel, wait_until="load")
            assert resp is not None and resp.status == 200, rel
            page.wait_for_load_state("networkidle")
    finally:
        ctx.close()
    outside = [r for r in requests if not _local(r.split(" -> ", 1)[1])]
    problems = []
    if outside:
        problems.append("requests left 127.0.0.1:\n  " + "\n  ".join(outside))
    if errors:
        problems.append("console/page errors:\n  " + "\n  ".join(errors))
    assert not problems, "\n".join(problems)


def test_site_reads_offline_from_the_folder(browser):
    """A reader who downloads build/html opens it from disk (file://), with no server: every
    page, its styles, scripts, icon font and diagrams load, and nothing else is asked for."""
    ctx = _context(browser, "dark")
    page = ctx.new_page()
    failed: list[str] = []
    outside: list[str] = []
    page.on("requestfailed", lambda r: None if _favicon_cancelled(r)
            else failed.append(f"{r.url}: {r.failure}"))
    page.on("request", lambda r: outside.append(r.url)
            if urlsplit(r.url).scheme not in ("file", "data", "blob", "about") else None)
    page.on("pageerror", lambda e: failed.append(f"pageerror: {e}"))
    try:
        for rel in ["index.html", *DIAGRAM_PAGES, "reference/glossary.html"]:
            page.goto((HTML / rel).as_uri(), wait_until="load")
            # the theme's stylesheet applied (the sidebar is laid out beside the article)
            assert page.locator(".bd-sidebar-primary").first.bounding_box(), rel
            assert page.evaluate("document.fonts.status") == "loaded", rel
            for i in range(page.locator(".hb-diagram").count()):
                box = page.locator(".hb-diagram .only-dark svg").nth(i).bounding_box()
                assert box and box["width"] > 50, (rel, i)
    finally:
        ctx.close()
    assert not failed, failed
    assert not outside, outside


# ---------------------------------------------------------------------------- 2. diagrams


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_diagrams_have_size(browser, server, mode):
    ctx = _context(browser, mode, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        for rel in DIAGRAM_PAGES:
            page.goto(server + rel, wait_until="load")
            assert page.evaluate("document.documentElement.dataset.theme") == mode, rel
            diagrams = page.locator(".hb-diagram")
            assert diagrams.count() >= 1, rel
            for i in range(diagrams.count()):
                d = diagrams.nth(i)
                d.scroll_into_view_if_needed()
                box = d.bounding_box()
                assert box and box["width"] > 50 and box["height"] > 50, (rel, mode, box)
                shown = d.locator(f".only-{mode} svg").first
                hidden = d.locator(f".only-{'light' if mode == 'dark' else 'dark'} svg").first
                sbox = shown.bounding_box()
                assert sbox and sbox["width"] > 50 and sbox["height"] > 50, (rel, mode, sbox)
                assert hidden.bounding_box() is None, (rel, mode, "other theme's svg visible")
    finally:
        ctx.close()


# ---------------------------------------------------------------------------- 3. search


def test_search_finds_results(light_page, server):
    light_page.goto(server + "search.html?q=Inherent+Resolve", wait_until="load")
    links = light_page.locator("#search-results ul.search li a")
    links.first.wait_for(state="attached", timeout=15_000)
    assert links.count() >= 1
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert any("inherent-resolve" in (h or "") for h in hrefs), hrefs


# ---------------------------------------------------------------------------- 4. cross-links


def _target_exists(page, href_abs: str) -> tuple[str, bool]:
    url, _, frag = href_abs.partition("#")
    assert frag, href_abs
    page.goto(url, wait_until="load")
    return frag, page.evaluate("id => document.getElementById(id) !== null", frag)


def test_term_and_fact_links_resolve(light_page, server):
    page = light_page
    page.goto(server + "takeaways.html", wait_until="load")
    term = page.locator("a.reference[class*='std-term'], a[href*='glossary.html#term-']").first
    term_href = term.evaluate("a => a.href")
    assert "glossary.html#term-" in term_href, term_href
    fact_href = page.locator("span.hb-fact a").first.evaluate("a => a.href")
    assert "reference/facts.html#" in fact_href, fact_href

    frag, ok = _target_exists(page, term_href)
    assert ok, f"glossary has no id {frag!r}"
    frag, ok = _target_exists(page, fact_href)
    assert ok, f"fact register has no id {frag!r}"


# ---------------------------------------------------------------------------- 5. phone


def test_phone_has_no_horizontal_scroll(browser, server):
    ctx = _context(browser, "light", viewport={"width": 390, "height": 844},
                   device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        page.goto(server + "history/invasion.html", wait_until="load")
        sw, iw = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        assert sw <= iw + 1, f"scrollWidth {sw} > innerWidth {iw}"
    finally:
        ctx.close()


def test_the_sidebar_buttons_readers_see_open_the_sidebars(browser, server):
    """The themes bind their sidebar buttons to the first of each kind, a hidden one in
    the navbar (handbook_tools.toggles): the shown buttons must work. On a phone each opens
    its sidebar's dialog; on a wide screen the primary one hides and shows the sidebar."""
    ctx = _context(browser, "light", viewport={"width": 390, "height": 844},
                   is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        page.goto(server + "history/invasion.html", wait_until="load")
        for kind, modal in (("primary", "pst-primary-sidebar-modal"),
                            ("secondary", "pst-secondary-sidebar-modal")):
            shown = page.locator(f"button.{kind}-toggle:visible")
            assert shown.count() == 1, kind
            assert page.locator(f".{kind}-toggle").count() > 1  # the theme's, hidden, first
            shown.tap()
            page.wait_for_function(f"() => document.getElementById('{modal}').open")
            page.keyboard.press("Escape")
            page.wait_for_function(f"() => !document.getElementById('{modal}').open")
    finally:
        ctx.close()
    ctx = _context(browser, "light", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(server + "history/invasion.html", wait_until="load")
        hidden = "() => document.getElementById('pst-primary-sidebar')" \
                 ".classList.contains('pst-sidebar-hidden')"
        assert not page.evaluate(hidden)
        page.locator("button.primary-toggle:visible").click()
        page.wait_for_function(hidden)
        page.locator("button.primary-toggle:visible").click()
        page.wait_for_function(f"() => !({hidden.removeprefix('() => ')})")
    finally:
        ctx.close()


# ---------------------------------------------------------------------------- 6. axe


def _axe(page, where: str) -> tuple[list[str], list[str]]:
    """axe-core on the page as it is now: every violation as a line, and the lines that
    fail (serious or critical, and not excused in AXE_ALLOWED)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found: list[str] = []
    failures: list[str] = []
    for v in result["violations"]:
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
        line = f"{where}: {v['id']} ({v['impact']}) x{len(v['nodes'])} e.g. {targets}"
        found.append(line)
        if v["impact"] in ("serious", "critical") and v["id"] not in AXE_ALLOWED:
            failures.append(line)
    return found, failures


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (tools/node_modules)")
@pytest.mark.parametrize("mode", ["light", "dark"])
def test_axe_no_serious_violations(browser, server, mode):
    ctx = _context(browser, mode, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    found: list[str] = []
    failures: list[str] = []
    try:
        for rel in AXE_PAGES:
            page.goto(server + rel, wait_until="load")
            page.wait_for_load_state("networkidle")
            seen, failing = _axe(page, f"[{mode}] {rel}")
            found += seen
            failures += failing
    finally:
        ctx.close()
    print("\naxe violations found:\n" + ("\n".join(found) or "(none)"))
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------- 7. PDF


@pytest.mark.skipif(not (HTML / "handbook.pdf").is_file(),
                    reason="build/html/handbook.pdf does not exist; run `make`")
def test_pdf_link_serves_pdf(light_page, server):
    page = light_page
    page.goto(server + "history/index.html", wait_until="load")
    link = page.locator(".hb-pdf-link a, a[download]").first
    href = link.evaluate("a => a.href")
    assert href.endswith("/handbook.pdf"), href
    resp = page.request.get(href)
    assert resp.status == 200, (href, resp.status)
    assert resp.headers.get("content-type", "").startswith("application/pdf"), resp.headers
    assert resp.body()[:5] == b"%PDF-"


# ---------------------------------------------------------------------------- 8. print

# Text of the site's navigation chrome, none of which belongs on paper.
CHROME = ["Skip to main content", "Ctrl+K", "Search", "Download the whole book",
          "US Forces in Iraq", "Recent events", "Future scenarios", "Last updated",
          "By The Iraq Handbook contributors", "Copyright"]


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_printed_page_is_the_article_only(browser, server, mode, tmp_path):
    ctx = _context(browser, mode, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(server + "history/index.html", wait_until="load")
        page.wait_for_load_state("networkidle")
        out = tmp_path / f"print-{mode}.pdf"
        page.pdf(path=str(out), format="A4")  # Chromium's print to PDF, print media
        page.emulate_media(media="print")
        text_colour, light_shown, dark_shown = page.evaluate("""() => [
            getComputedStyle(document.querySelector('article p')).color,
            getComputedStyle(document.querySelector('.hb-diagram .only-light')).display,
            getComputedStyle(document.querySelector('.hb-diagram .only-dark')).display]""")
    finally:
        ctx.close()
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    assert "History, 2003–2021" in flat
    assert "has passed through distinct missions" in flat
    assert "2.1. The 2003 invasion and the occupation authority" in flat
    # the diagram is printed once: its light variant, whatever mode the reader browses in
    assert flat.count("President Bush declares major combat operations over") == 1, mode
    assert (light_shown, dark_shown) == ("block", "none"), mode
    # dark text on white paper, also when the reader browses in dark mode
    rgb = [int(c) for c in re.findall(r"\d+", text_colour)[:3]]
    assert max(rgb) < 100, f"{mode}: printed text colour {text_colour}"
    chrome = [c for c in CHROME if c in flat]
    lines = {ln.strip() for ln in text.splitlines()}
    chrome += [w for w in ("previous", "next") if w in lines]  # the prev/next footer
    assert chrome == [], f"{mode}: navigation printed: {chrome}"


# ---------------------------------------------------------------------------- 9. fact cards

CARD_PAGE = "takeaways.html"
TRIGGER = ".hb-fact > a[aria-controls]"


def _first_card(page) -> tuple[object, object, str]:
    """(the first cited figure with a card, its card, the card's excerpt text)."""
    trigger = page.locator(TRIGGER).first
    trigger.wait_for(state="attached")
    card = page.locator("#" + trigger.get_attribute("aria-controls"))
    excerpt = card.locator(".hb-card-excerpt").text_content()
    assert excerpt and len(excerpt) > 10
    return trigger, card, excerpt


def test_fact_card_on_hover_focus_and_escape(light_page, server):
    page = light_page
    page.goto(server + CARD_PAGE, wait_until="load")
    trigger, card, excerpt = _first_card(page)
    assert card.is_hidden() and trigger.get_attribute("aria-expanded") == "false"
    assert trigger.get_attribute("aria-describedby") == trigger.get_attribute("aria-controls")
    trigger.scroll_into_view_if_needed()
    trigger.hover()
    card.wait_for(state="visible", timeout=5_000)
    assert excerpt.strip() in card.inner_text()
    assert "Fact register entry" in card.inner_text()
    assert card.locator(".hb-standing").count() >= 1
    assert trigger.get_attribute("aria-expanded") == "true"
    box = card.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 40
    page.keyboard.press("Escape")
    card.wait_for(state="hidden", timeout=2_000)
    assert trigger.get_attribute("aria-expanded") == "false"
    page.mouse.move(0, 0)

    # keyboard: Tab onto the figure opens the card; Tab again enters it; Escape closes it
    # and puts focus back on the figure
    page.evaluate("""sel => {
        const b = document.createElement('button'); b.id = 'hb-before'; b.textContent = 'x';
        const box = document.querySelector(sel).closest('.hb-fact');
        box.parentNode.insertBefore(b, box); }""", TRIGGER)
    page.focus("#hb-before")
    page.keyboard.press("Tab")
    assert page.evaluate("sel => document.activeElement === document.querySelector(sel)",
                         TRIGGER)
    card.wait_for(state="visible", timeout=2_000)
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('.hb-card')")
    assert card.is_visible()
    page.keyboard.press("Escape")
    card.wait_for(state="hidden", timeout=2_000)
    assert page.evaluate("sel => document.activeElement === document.querySelector(sel)",
                         TRIGGER)


def test_fact_card_from_the_folder(browser):
    ctx = _context(browser, "dark")
    page = ctx.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if urlsplit(r.url).scheme not in ("file", "data", "blob", "about") else None)
    try:
        page.goto((HTML / CARD_PAGE).as_uri(), wait_until="load")
        trigger, card, excerpt = _first_card(page)
        trigger.scroll_into_view_if_needed()
        trigger.hover()
        card.wait_for(state="visible", timeout=5_000)
        assert excerpt.strip() in card.inner_text()
    finally:
        ctx.close()
    assert not outside, outside


def test_fact_card_on_tap(browser, server):
    ctx = _context(browser, "light", viewport={"width": 390, "height": 844},
                   device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        page.goto(server + CARD_PAGE, wait_until="load")
        trigger, card, excerpt = _first_card(page)
        trigger.scroll_into_view_if_needed()
        trigger.tap()
        card.wait_for(state="visible", timeout=2_000)
        assert page.url.endswith(CARD_PAGE)  # the first tap shows the evidence
        box = card.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391, box
        below = min(box["y"] + box["height"] + 30, 830)
        page.touchscreen.tap(3, below)  # a tap elsewhere (the page's margin) closes it
        card.wait_for(state="hidden", timeout=2_000)
    finally:
        ctx.close()


def test_fact_link_without_javascript_goes_to_the_register(browser, server):
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    try:
        page.goto(server + CARD_PAGE, wait_until="load")
        link = page.locator(".hb-fact > a").first
        card = page.locator(".hb-card").first
        assert card.is_hidden()
        link.click()
        page.wait_for_load_state("load")
        assert "reference/facts.html#fact-" in page.url, page.url
        frag = urlsplit(page.url).fragment
        assert page.evaluate("id => document.getElementById(id) !== null", frag)
    finally:
        ctx.close()


#: the long pages whose blocks the browser skips while off screen (content-visibility:
#: auto in handbook.css): the page, a skipped block, and an anchor inside one
SKIPPED_BLOCKS = {
    "reference/facts.html": (".hb-register-part", "tr[id^='fact-']"),
    "reference/sources.html": ("div.citation-list > div.citation", "div.citation[id]"),
}
IN_VIEW = """id => { const box = document.getElementById(id).getBoundingClientRect();
                     return box.bottom > 0 && box.top < innerHeight; }"""


@pytest.mark.parametrize("page_name", sorted(SKIPPED_BLOCKS))
def test_a_link_deep_in_a_long_page_shows_its_entry(light_page, server, page_name):
    """The blocks off screen are skipped, yet a link to the last anchor of the page (a fact
    of the register's last section, the last source) scrolls its entry into view, and the
    browser's find reaches the text of a skipped block."""
    block, target = SKIPPED_BLOCKS[page_name]
    page = light_page
    page.goto(server + page_name, wait_until="load")
    assert page.evaluate("sel => getComputedStyle(document.querySelector(sel))"
                         ".contentVisibility", block) == "auto"
    last = page.evaluate("sel => [...document.querySelectorAll(sel)].pop().id", target)
    entry = "id => document.getElementById(id).closest('tr, div.citation')"
    # out of view from the top of the page
    assert not page.evaluate(IN_VIEW, last)
    words = page.evaluate(f"id => ({entry})(id).textContent", last).split()
    # the fact's id (the row's other cells are not one text); the source's title
    text = words[0] if page_name.endswith("facts.html") else " ".join(words[1:6])
    assert page.evaluate("t => window.find(t, true)", text), text
    assert page.evaluate(f"id => ({entry})(id).contains(getSelection().anchorNode)", last)
    page.goto(server + page_name + "#" + last, wait_until="load")
    page.wait_for_function(IN_VIEW, arg=last, timeout=10_000)


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (tools/node_modules)")
@pytest.mark.parametrize("mode", ["light", "dark"])
def test_axe_open_fact_card(browser, server, mode):
    ctx = _context(browser, mode, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(server + CARD_PAGE, wait_until="load")
        trigger, card, _ = _first_card(page)
        trigger.focus()
        card.wait_for(state="visible", timeout=2_000)
        _, bad = _axe(page, f"[{mode}] {CARD_PAGE}, a fact card open")
        assert card.is_visible()
        printed = page.evaluate("""() => { const s = getComputedStyle(
            document.querySelector('.hb-card')); return s.display; }""")
        page.emulate_media(media="print")
        in_print = page.evaluate(
            "() => getComputedStyle(document.querySelector('.hb-card')).display")
    finally:
        ctx.close()
    assert not bad, bad
    assert printed != "none" and in_print == "none"  # screen-only


def test_first_visit_finds_the_favicon_and_a_description(browser, server):
    """What a shared link and a browser tab show: the page's own favicon, served (no 404),
    and a meta description from the page's first paragraph (not the freshness line)."""
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        page.goto(server + "posture/troops.html", wait_until="load")
        icon = page.eval_on_selector("link[rel~=icon]", "e => e.href")
        description = page.eval_on_selector("meta[name=description]", "e => e.content")
        status = page.request.get(icon).status
    finally:
        ctx.close()
    assert icon.endswith("/_static/favicon.svg") and status == 200, (icon, status)
    assert description.startswith("In brief. From 2021 to 2024 the United States"), description
