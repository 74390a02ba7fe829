"""The cut stylesheets (handbook_tools.purge) draw exactly what the whole ones draw.

Each page is loaded twice in the Debian Chromium: as built (the cut stylesheets), and with
the theme's whole stylesheets served in their place (the build keeps them in
``build/doctrees/html/unpurged``). In both, one ``DOMSnapshot.captureSnapshot`` (Chrome's
DevTools protocol) a state gives what is drawn: every node of the document, and every box
of the layout tree (each element, text and generated ``::before``/``::after``/``::marker``
box) with every CSS property computed, its bounds, paint order and text. That is compared
in light and dark mode, at desktop and phone width, in the states that scripts bring about
(the phone's sidebar open, the search dialog, a search results page), and last with every
hidden element shown. Any difference is a rule the cut dropped while a page needs it.
Control runs drop a rule on purpose and must see it: one that lays out every page, and one
that only the end of the longest page uses.

(Reading each element's computed style from a script, as this file did before, costs about
35 ms an element in Chromium, so it compared only the first 1,500 elements of a page and
still took twenty minutes; the snapshot reads all of a page's 20,000 boxes in seconds.)

Run after ``make html``; skipped when the site has not been built.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from handbook_tools.localserver import serve_folder
from handbook_tools.purge import IMPORTER, TARGETS, unpurged_dir

REPO = Path(__file__).resolve().parent.parent
HTML = REPO / "build" / "html"
UNPURGED = unpurged_dir(REPO / "build" / "doctrees" / "html")
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser

if not (HTML / "index.html").is_file() or not UNPURGED.is_dir():
    pytest.skip("build/html or its unpurged stylesheets do not exist; run `make html` first",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

VIEWS = {"desktop": {"viewport": {"width": 1280, "height": 900}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                   "has_touch": True}}

#: the CSS properties of the browser (longhands, as ``getComputedStyle`` lists them; not
#: the custom ``--*`` properties, which reach the screen only through these)
PROPERTIES = """() => { const cs = getComputedStyle(document.documentElement), out = [];
  for (let i = 0; i < cs.length; i++) { if (!cs[i].startsWith('--')) out.push(cs[i]); }
  return out; }"""


#: show every element of the body that is not drawn (``display: none``), but scripts,
#: stylesheets and templates
REVEAL = """() => { for (const el of document.body.querySelectorAll('*')) {
  if (!['SCRIPT', 'STYLE', 'TEMPLATE'].includes(el.tagName.toUpperCase())
      && getComputedStyle(el).display === 'none') {
    el.style.setProperty('display', 'block', 'important'); } } }"""

@dataclass(frozen=True)
class Drawn:
    """What a page draws, from one ``DOMSnapshot.captureSnapshot``: every node of the
    document (by path, in document order, hidden ones too) and every box of the layout
    tree (elements, text and the generated ``::before``/``::after``/``::marker`` boxes),
    each with every computed property, its bounds, its paint order and its text."""

    properties: tuple[str, ...]
    #: the path of every node of the document, in document order
    nodes: tuple[str, ...]
    #: per box, in layout-tree order: (path of its node, its position among the
    #: document's elements)
    boxes: tuple[tuple[str, int], ...]
    #: per box: (values of PROPERTIES..., bounds, paint order, text)
    looks: tuple[tuple[object, ...], ...]


def _node_paths(strings: list[str], nodes: dict) -> tuple[list[str], list[int]]:
    """The path of each node (``tag#id:n>...``, n its place among its parent's children,
    ``::before`` and the like for generated boxes) and, for each, how many elements come
    before it in document order."""
    parents, names, types = nodes["parentIndex"], nodes["nodeName"], nodes["nodeType"]
    pseudo = dict(zip(nodes.get("pseudoType", {}).get("index", []),
                      nodes.get("pseudoType", {}).get("value", []), strict=True))
    paths: list[str] = []
    order: list[int] = []
    children: dict[int, int] = {}
    elements = 0
    for i, parent in enumerate(parents):
        attrs = nodes["attributes"][i]
        ident = next((strings[attrs[k + 1]] for k in range(0, len(attrs), 2)
                      if strings[attrs[k]] == "id"), "")
        name = strings[names[i]].lower() + (f"#{ident}" if ident else "")
        if i in pseudo:
            name = f"::{strings[pseudo[i]]}"
        n = children.get(parent, 0)
        children[parent] = n + 1
        paths.append((paths[parent] + ">" if parent >= 0 else "") + f"{name}:{n}")
        order.append(elements)
        if types[i] == 1 and i not in pseudo:
            elements += 1
    return paths, order


def _send(cdp, method: str, params: dict) -> dict:
    """``cdp.send(method, params)``, without the sync API's walk over the answer (which
    looks for Playwright objects to wrap in each of its values, 10 million numbers for the
    fact register, and takes two thirds of the time): the answer is plain JSON."""
    impl, sync = getattr(cdp, "_impl_obj", None), getattr(cdp, "_sync", None)
    if impl is None or sync is None:  # another Playwright: the public way
        return cdp.send(method, params)
    return sync(impl.send(method=method, params=params, timeout=None))


def _drawn(page) -> Drawn:
    """One snapshot of PAGE as it is drawn now (see :class:`Drawn`)."""
    properties = tuple(page.evaluate(PROPERTIES))
    cdp = page.context.new_cdp_session(page)
    try:
        snap = _send(cdp, "DOMSnapshot.captureSnapshot", {
            "computedStyles": list(properties), "includeDOMRects": True,
            "includePaintOrder": True})
    finally:
        cdp.detach()
    strings = snap["strings"]
    nodes: list[str] = []
    boxes: list[tuple[str, int]] = []
    looks: list[tuple[object, ...]] = []
    for doc in snap["documents"]:
        paths, order = _node_paths(strings, doc["nodes"])
        where = strings[doc["documentURL"]].split("#")[0] + " "
        nodes += [where + p for p in paths]
        layout = doc["layout"]
        for k, i in enumerate(layout["nodeIndex"]):
            boxes.append((where + paths[i], order[i]))
            text = layout["text"][k]
            styles = layout["styles"][k] or [-1] * len(properties)  # none: the document
            looks.append((*(strings[s] if s >= 0 else "" for s in styles),
                          tuple(layout["bounds"][k]), layout["paintOrders"][k],
                          strings[text] if text >= 0 else ""))
    return Drawn(properties, tuple(nodes), tuple(boxes), tuple(looks))


def _ready(page) -> None:
    """Wait until the page's scripts have built it: on the search page, searchtools.js
    adds one result every 5 ms, then fetches each result's summary, so wait for its
    closing status line, then for the fetches to end."""
    if "/search.html" in page.url:
        page.wait_for_function("() => /Search finished|did not match/.test("
                               "document.body.textContent)")
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready.then(() => true)")


#: wait until every running animation and transition has ended
SETTLED = """() => Promise.all(document.getAnimations()
  .filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
  .map(a => a.finished.catch(() => null))).then(() => true)"""


#: no element focused, and no tooltip left (the theme's tooltips, shown on hover and on
#: focus after a delay, get a random id)
NO_TOOLTIP = """() => { if (document.activeElement) document.activeElement.blur();
  return !document.querySelector('.tooltip'); }"""


def _press(page, button) -> None:
    """Click BUTTON as a reader does, move the mouse away, and wait for the page to
    settle."""
    button.click()
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    page.evaluate(SETTLED)


def _leave(page) -> None:
    """Close what is open (Escape), leave no element focused and wait for its tooltip
    to go, and for the page to settle."""
    page.keyboard.press("Escape")
    page.wait_for_function(NO_TOOLTIP)
    page.evaluate(SETTLED)


def _states(page, view: str) -> Iterator[str]:
    """Bring the page into each state that scripts bring about; yield its name."""
    yield "loaded"
    if view == "phone":
        # The button shown at phone width (handbook_tools.toggles hands its click to the
        # theme's), and the sidebar's dialog must be open.
        toggle = page.locator("button.primary-toggle:visible").first
        if toggle.count():
            toggle.dispatch_event("click")
            page.wait_for_timeout(300)
            page.evaluate(SETTLED)
            assert page.evaluate("() => document.querySelector("
                                 "'#pst-primary-sidebar-modal').open"), "no sidebar opened"
            yield "sidebar-open"
            _leave(page)
            page.reload(wait_until="load")
            _ready(page)  # a reloaded search page searches again
    button = page.locator("button.search-button__button:visible").first
    if button.count():
        _press(page, button)
        yield "search-dialog"
        _leave(page)
    # Last, every hidden element of the page's body shown (``display: block``): what is
    # drawn when a script reveals it (a fact card, a menu) is compared too, every property
    # but ``display`` as the stylesheets give it. (Opening a fact card by its script moves
    # it in the document, which gave node lists that differed between two loads.)
    page.evaluate(REVEAL)
    yield "hidden-shown"


def _whole(drop: str | None = None):
    """A route handler serving the unpurged stylesheets (minus the rules of selector
    ``drop``, for the control run)."""
    def handle(route) -> None:
        path = urlsplit(route.request.url).path
        rel = path.split("/_static/", 1)[1] if "/_static/" in path else ""
        whole = UNPURGED / rel
        if rel in (*TARGETS, IMPORTER) and whole.is_file():
            css = whole.read_text(encoding="utf-8")
            if drop:
                css = re.sub(r"[^{}]*" + re.escape(drop) + r"\{[^}]*\}", "", css)
            route.fulfill(status=200, content_type="text/css", body=css)
        else:
            route.continue_()
    return handle


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_folder(HTML, precompressed=True) as base:
        yield base


def _snapshots(browser, url: str, view: str, mode: str, handler=None,
               states: int | None = None) -> dict[str, Drawn]:
    """What the page at URL draws in each state (the first STATES of them, if given)."""
    ctx = browser.new_context(color_scheme=mode, reduced_motion="reduce", **VIEWS[view])
    ctx.add_init_script(f"try {{ localStorage.setItem('mode', '{mode}');"
                        f" localStorage.setItem('theme', '{mode}'); }} catch (e) {{}}")
    if handler is not None:
        ctx.route("**/_static/**/*.css*", handler)
    page = ctx.new_page()
    try:
        page.goto(url, wait_until="load")
        _ready(page)
        out = {}
        for state in _states(page, view):
            out[state] = _drawn(page)
            if len(out) == states:
                break
        return out
    finally:
        ctx.close()


def _differences(cut: dict[str, Drawn], whole: dict[str, Drawn]) -> list[str]:
    """Every difference between what the two draw, in each state: a node that is in one
    document only, a box that is drawn in one only, and each property (or the bounds,
    paint order or text) of a box that differs."""
    out = []
    assert cut.keys() == whole.keys(), (cut.keys(), whole.keys())
    for state in whole:
        a, b = cut[state], whole[state]
        assert a.properties == b.properties, state
        if a.nodes != b.nodes:
            out.append(f"{state}: the pages' nodes differ ({len(a.nodes)} against "
                       f"{len(b.nodes)})")
            continue
        if a.boxes != b.boxes:
            only = sorted(set(a.boxes) ^ set(b.boxes))
            out.append(f"{state}: the drawn boxes differ ({len(a.boxes)} against "
                       f"{len(b.boxes)}), e.g. {[path for path, _ in only[:3]]}")
            continue
        names = (*a.properties, "bounds", "paint order", "text")
        for (path, _), x, y in zip(a.boxes, a.looks, b.looks, strict=True):
            if x != y:
                out += [f"{state}: {path}: {name}: {u!r} against {v!r}"
                        for name, u, v in zip(names, x, y, strict=True) if u != v][:3]
    return out


def _first_difference(cut: dict[str, Drawn], whole: dict[str, Drawn]) -> int:
    """The place, among the document's elements, of the first box that is drawn in one
    only or drawn otherwise (any property, its bounds, paint order or text)."""
    places = []
    for state in whole:
        a, b = cut[state], whole[state]
        if a.boxes != b.boxes:
            places += [place for _, place in set(a.boxes) ^ set(b.boxes)]
        else:
            places += [place for (_, place), x, y in zip(b.boxes, a.looks, b.looks,
                                                         strict=True) if x != y]
    assert places, "nothing is drawn otherwise"
    return min(places)


def test_unpurged_stylesheets_are_kept_and_the_cut_is_real() -> None:
    for rel in TARGETS:
        whole, cut = UNPURGED / rel, HTML / "_static" / rel
        assert whole.is_file() and cut.is_file(), rel
        assert cut.stat().st_size < whole.stat().st_size, rel
    assert (HTML / "_static" / "styles" / "pydata-sphinx-theme.css").stat().st_size < 150_000


#: (page, view, mode): the home page in every view and mode; the other pages in one each
CASES = [("index.html", view, mode) for view in VIEWS for mode in ("light", "dark")] + [
    ("takeaways.html", "desktop", "light"),  # cited figures with their (hidden) cards
    ("history/invasion.html", "phone", "dark"),  # a long page
    ("reference/facts.html", "desktop", "dark"),  # the register
    ("search.html?q=coalition", "phone", "light"),  # search results, built by a script
]


@pytest.mark.parametrize(("rel", "view", "mode"), CASES)
def test_cut_stylesheets_draw_what_the_whole_ones_draw(browser, server, rel, view, mode):
    cut = _snapshots(browser, server + rel, view, mode)
    whole = _snapshots(browser, server + rel, view, mode, _whole())
    diff = _differences(cut, whole)
    assert not diff, f"{len(diff)} differences, e.g.\n" + "\n".join(diff[:10])


def test_the_comparison_sees_a_dropped_rule(browser, server):
    """Control: without the rule that lays out the article, boxes are drawn otherwise."""
    whole = _snapshots(browser, server + "index.html", "desktop", "light", _whole())
    broken = _snapshots(browser, server + "index.html", "desktop", "light",
                        _whole(drop=".bd-article-container"))
    assert _differences(broken, whole)


def test_the_comparison_sees_the_end_of_the_longest_page(browser, server):
    """Control: a rule that only the fact register's "next page" link uses, near the end
    of the page (after its 10,000th element), and that moves no other box (it aligns the
    link's text), is seen. Reading each element's style by a script, as this file did
    before, took so long that only the first 1,500 elements of a page were compared, and
    missed this."""
    url = server + "reference/facts.html"
    whole = _snapshots(browser, url, "desktop", "light", _whole(), states=1)
    broken = _snapshots(browser, url, "desktop", "light",
                        _whole(drop=".prev-next-area a.right-next div.prev-next-info"),
                        states=1)
    assert _differences(broken, whole)
    assert _first_difference(broken, whole) > 1_500  # the old limit
