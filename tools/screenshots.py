"""Screenshots of the built site (build/html) in the Debian Chromium, for review by eye.

    make screenshots        (or: .venv/bin/python tools/screenshots.py [OUTDIR])

Writes build/screenshots/<page>-<view>.png: the home page, the mission diagram and the troop
chart, each at desktop width in light and dark mode and at phone width. Diagram and chart
shots are scrolled so the figure is at the top of the window. Serves on 127.0.0.1 only.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from handbook_tools.localserver import serve_folder

REPO = Path(__file__).resolve().parent.parent
HTML = REPO / "build" / "html"
CHROMIUM = "/usr/bin/chromium"
#: name -> (page, element to bring to the top of the window, or None for the page top)
PAGES = {"home": ("index.html", None),
         "mission-diagram": ("history/index.html", "#mission-transitions"),
         "troop-chart": ("posture/troops.html", ".hb-chart")}
#: name -> (colour mode, context options)
VIEWS = {"desktop-light": ("light", {"viewport": {"width": 1280, "height": 900}}),
         "desktop-dark": ("dark", {"viewport": {"width": 1280, "height": 900}}),
         "phone-light": ("light", {"viewport": {"width": 390, "height": 844},
                                   "is_mobile": True, "has_touch": True})}


def main(argv: list[str]) -> int:
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
