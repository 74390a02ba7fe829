"""Screenshots of the built site (build/html) in the Debian Chromium, for review by eye.

    make screenshots        (or: .venv/bin/python tools/screenshots.py [OUTDIR])
    .venv/bin/python tools/screenshots.py --whole-css OUTDIR2 --compare OUTDIR

Writes build/screenshots/<page>-<view>.png: the home page, the mission diagram, the troop
chart, a long page and the fact register, each at desktop width and at phone width, in
light and dark mode. Diagram and chart shots are scrolled so the figure is at the top of the
window. Serves on 127.0.0.1 only.

``--whole-css`` serves the theme's whole stylesheets (kept by the build in
build/doctrees/html/unpurged) in place of the cut ones (handbook_tools.purge);
``--compare DIR`` then compares each picture pixel by pixel with DIR's and exits 1 when any
differs: the check that the cut drops nothing a page draws.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

from handbook_tools.localserver import serve_folder
from handbook_tools.purge import IMPORTER, TARGETS, unpurged_dir

REPO = Path(__file__).resolve().parent.parent
HTML = REPO / "build" / "html"
CHROMIUM = "/usr/bin/chromium"
#: name -> (page, element to bring to the top of the window, or None for the page top)
PAGES = {"home": ("index.html", None),
         "mission-diagram": ("history/index.html", "#mission-transitions"),
         "troop-chart": ("posture/troops.html", ".hb-chart"),
         "long-page": ("history/invasion.html", None),
         "register": ("reference/facts.html", None)}
#: name -> (colour mode, context options)
VIEWS = {"desktop-light": ("light", {"viewport": {"width": 1280, "height": 900}}),
         "desktop-dark": ("dark", {"viewport": {"width": 1280, "height": 900}}),
         "phone-light": ("light", {"viewport": {"width": 390, "height": 844},
                                   "is_mobile": True, "has_touch": True}),
         "phone-dark": ("dark", {"viewport": {"width": 390, "height": 844},
                                 "is_mobile": True, "has_touch": True})}
UNPURGED = unpurged_dir(REPO / "build" / "doctrees" / "html")


def _serve_whole_css(route) -> None:  # type: ignore[no-untyped-def]
    path = urlsplit(route.request.url).path
    rel = path.split("/_static/", 1)[1] if "/_static/" in path else ""
    if rel in (*TARGETS, IMPORTER) and (UNPURGED / rel).is_file():
        route.fulfill(status=200, content_type="text/css",
                      body=(UNPURGED / rel).read_text(encoding="utf-8"))
    else:
        route.continue_()


def compare(out: Path, other: Path) -> int:
    """Pixel comparison of every picture of ``out`` with its namesake in ``other``."""
    from PIL import Image, ImageChops

    differ = 0
    for path in sorted(out.glob("*.png")):
        a = Image.open(path).convert("RGB")
        b = Image.open(other / path.name).convert("RGB")
        if a.size != b.size:
            print(f"{path.name}: sizes differ {a.size} {b.size}")
            differ += 1
            continue
        diff = ImageChops.difference(a, b)
        changed = sum(1 for px in diff.get_flattened_data() if px != (0, 0, 0))
        print(f"{path.name}: {changed} of {a.size[0] * a.size[1]} pixels differ")
        differ += changed > 0
    return 1 if differ else 0


def main(argv: list[str]) -> int:
    whole_css = "--whole-css" in argv
    argv = [a for a in argv if a != "--whole-css"]
    other = None
    if "--compare" in argv:
        i = argv.index("--compare")
        other = Path(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    out = Path(argv[0]) if argv else REPO / "build" / "screenshots"
    if not (HTML / "index.html").is_file():
        print("build/html/index.html does not exist; run `make html` first", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    with serve_folder(HTML) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu"])
        for view, (mode, options) in VIEWS.items():
            ctx = browser.new_context(color_scheme=mode, **options)
            ctx.add_init_script(f"localStorage.setItem('mode', '{mode}');"
                                f"localStorage.setItem('theme', '{mode}');")
            if whole_css:
                ctx.route("**/_static/**/*.css*", _serve_whole_css)
            page = ctx.new_page()
            for name, (rel, selector) in PAGES.items():
                page.goto(base + rel, wait_until="networkidle")
                if selector:
                    page.locator(selector).first.evaluate("e => e.scrollIntoView()")
                path = out / f"{name}-{view}.png"
                page.screenshot(path=str(path))
                print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
            ctx.close()
        browser.close()
    return compare(out, other) if other else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
