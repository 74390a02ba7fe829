"""``make bench``: how fast the book builds and how light its pages are, against a baseline.

Measures, in one run, for OUR build (the Makefile's settings) and for a BASELINE built from
a copy of the same pages with stock settings (sphinx-book-theme defaults, sphinxcontrib-
mermaid's client-side rendering from its CDN, no handbook checks, no ``-n -W``):

- wall time, median of ``BENCH_RUNS`` runs (default 3): a clean ``make html`` (empty
  output, doctrees and diagram cache), a no-change rebuild (the Makefile's stamp removed,
  so that sphinx-build runs and finds nothing to do), a rebuild after editing one page; a
  clean ``make pdf`` and ``make pdf`` after editing one page (``BENCH_PDF_RUNS``, default
  1: the slowest); a no-change ``make`` (HTML and PDF: ours with the Makefile's stamps,
  the baseline without them, as a Makefile that always runs its builders); ``make
  check`` alone (ours only: the baseline has no checks);
- the time from saving a page to the page served by ``make serve`` (sphinx-autobuild)
  showing the change (``BENCH_SERVE_RUNS``, default ``BENCH_RUNS``);
- Mermaid diagrams (light and dark SVG each, no cache): the book's, repeated (each copy
  made distinct by a comment) up to ``BENCH_DIAGRAMS`` (default 8) so that the browser's
  start-up does not dominate: all in one browser session (the package's
  render-mermaid.mjs)
  against one mermaid-cli process per diagram (the stock sphinxcontrib-mermaid way);
- for each page, what a browser with an empty cache fetches to show it (HTML, CSS, JS,
  fonts, images): requests and bytes to 127.0.0.1 (plus the gzip size of the same bytes,
  what a compressing server would send) and requests to other hosts, which are counted
  and blocked (no network here: their bytes are unknown);
- Lighthouse scores (median of ``BENCH_RUNS``) of the home page and the longest page, when
  ``BENCH_LIGHTHOUSE`` is not ``0`` and lighthouse is installed in tools/node_modules.

Prints a table and writes everything to ``build/bench/bench.json``. Timings depend on the
machine and its load: compare the ratios, not the seconds. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import http.client
import io
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.request import urlopen

from handbook_tools.localserver import serve_folder
from handbook_tools.nodepackages import SCRIPT

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"
DOCS = REPO / "docs"
OUT = REPO / "build" / "bench"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
EDIT_PAGE = "takeaways.md"

BASELINE_CONF = """

# ---- benchmark baseline (written by tools/bench.py): stock settings --------------------
html_theme_options = {{}}          # sphinx-book-theme defaults
html_sidebars = {{}}
templates_path = []               # the theme's own layout: fontawesome.js, search on every page
handbook_subset_icons = False     # the theme's whole icon font
handbook_checks = False           # no glossary, fact, alt-text or built-link checks
handbook_render_diagrams = False  # sphinxcontrib-mermaid's own output (CDN in HTML)
mermaid_cmd = {mmdc!r}            # ... and one mermaid-cli process per diagram in LaTeX
mermaid_params = ["-p", {puppeteer!r}]
handbook_precompress = False      # no pre-compressed copies: a plain server sends it all
handbook_purge_css = False        # the theme's whole stylesheets
"""


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


@dataclass
class Timing:
    wall: float
    cpu: float  # user + system seconds of the command and the processes it waited for


def run_timed(cmd: list[str], env: dict[str, str] | None = None,
              stdin: str | None = None) -> tuple[Timing, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, input=stdin, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Timing(wall, cpu), proc


def timed(cmd: list[str], env: dict[str, str] | None = None) -> Timing:
    took, proc = run_timed(cmd, env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return took


class Series:
    """Wall and CPU times of repeated runs, by measure."""

    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def add(self, key: str, t: Timing) -> None:
        self.wall.setdefault(key, []).append(round(t.wall, 3))
        self.cpu.setdefault(key, []).append(round(t.cpu, 3))

    def summary(self) -> dict[str, Any]:
        return {"wall_runs": self.wall, "cpu_runs": self.cpu,
                "median": {k: median(v) for k, v in self.wall.items()},
                "cpu_median": {k: median(v) for k, v in self.cpu.items()}}


# ---------------------------------------------------------------------------- variants

class Variant:
    """One copy of the book (ours or the baseline) with its own build and cache folders."""

    def __init__(self, name: str, sphinxopts: str | None) -> None:
        self.name = name
        self.root = OUT / name
        self.src = self.root / "docs"
        self.build = self.root / "build"
        self.cache = self.root / "cache"
        self.sphinxopts = sphinxopts  # None: the Makefile's own

    def prepare(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(DOCS, self.src)
        # conf.py's handbook_node_modules, ../tools/node_modules, from the copy as from docs/
        (self.root / "tools").mkdir()
        (self.root / "tools" / "node_modules").symlink_to(TOOLS / "node_modules")
        if self.name == "baseline":
            puppeteer = self.root / "puppeteer.json"
            puppeteer.write_text(json.dumps({"executablePath": CHROMIUM,
                                             "args": CHROMIUM_ARGS}))
            with (self.src / "conf.py").open("a", encoding="utf-8") as conf:
                conf.write(BASELINE_CONF.format(
                    mmdc=str(TOOLS / "node_modules" / ".bin" / "mmdc"),
                    puppeteer=str(puppeteer)))

    def env(self) -> dict[str, str]:
        return {**os.environ, "HANDBOOK_CACHE_DIR": str(self.cache)}

    def make_cmd(self, target: str, *variables: str) -> list[str]:
        cmd = ["make", "--no-print-directory", "-s", target, f"DOCS={self.src}",
               f"BUILD={self.build}", *variables]
        if self.sphinxopts is not None:
            cmd.append(f"SPHINXOPTS={self.sphinxopts}")
        return cmd

    def make(self, target: str) -> Timing:
        return timed(self.make_cmd(target), self.env())

    def unstamp(self, *outputs: str) -> None:
        """Forget that ``outputs`` (html, pdf) are up to date: the Makefile's next run
        starts their builders even though no input changed."""
        for name in outputs:
            (self.build / ".stamps" / name).unlink(missing_ok=True)

    def clean(self, *parts: str) -> None:
        for part in parts:
            shutil.rmtree(self.build / part, ignore_errors=True)
        shutil.rmtree(self.cache, ignore_errors=True)

    def edit(self, n: int) -> None:
        with (self.src / EDIT_PAGE).open("a", encoding="utf-8") as page:
            page.write(f"\n<!-- benchmark edit {n} -->\n")


def bench_builds(variants: list[Variant], runs: int, pdf_runs: int,
                 html_only: bool = False) -> dict[str, Any]:
    """Each measure of ours, then of the baseline, one after the other, so that both see
    the same load of the machine. ``html_only``: the three HTML builds alone."""
    series = {v.name: Series() for v in variants}

    def each(key: str, action: Callable[[Variant], Timing], n: int) -> None:
        for v in variants:
            if key == "check" and v.name != "ours":
                continue  # the baseline has no checks
            t = action(v)
            series[v.name].add(key, t)
            log(f"{v.name} {key} run {n + 1}: {t.wall:.1f} s wall, {t.cpu:.1f} s CPU")

    def clean_html(v: Variant) -> Timing:
        v.clean("html", "html.new", "doctrees")
        v.unstamp("html")
        return v.make("html")

    def edited_html(v: Variant, n: int) -> Timing:
        v.edit(n)
        return v.make("html")

    def nochange_html(v: Variant) -> Timing:
        v.unstamp("html")  # sphinx-build runs, with nothing to do
        return v.make("html")

    def clean_pdf(v: Variant) -> Timing:
        v.clean("latex", "doctrees/latex")
        v.unstamp("pdf")
        return v.make("pdf")

    def edited_pdf(v: Variant, n: int) -> Timing:
        v.edit(100 + n)
        return v.make("pdf")

    def nochange_make(v: Variant) -> Timing:
        if v.name == "baseline":  # stock: every builder runs on every `make`
            v.unstamp("html", "pdf")
        return v.make("all")

    for n in range(runs):
        each("html_clean", clean_html, n)
        each("html_nochange", nochange_html, n)
        each("html_edit", functools.partial(lambda n, v: edited_html(v, n), n), n)
        if not html_only:
            each("check", lambda v: v.make("check"), n)
    if html_only:
        return {name: s.summary() for name, s in series.items()}
    for n in range(pdf_runs):
        each("pdf_clean", clean_pdf, n)
        each("pdf_edit", functools.partial(lambda n, v: edited_pdf(v, n), n), n)
    for v in variants:
        v.make("all")  # the HTML site of the last edit, the PDF, and the copy between
    for n in range(runs):
        each("make_nochange", nochange_make, n)
    return {name: s.summary() for name, s in series.items()}


# ---------------------------------------------------------------------------- make serve

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> str | None:
    try:
        with urlopen(url, timeout=5) as resp:  # noqa: S310 (127.0.0.1 only)
            return str(resp.read().decode("utf-8", "replace"))
    except (URLError, OSError, http.client.HTTPException):  # e.g. read while rewritten
        return None


def bench_serve(variants: list[Variant], runs: int) -> dict[str, Any]:
    """``make serve``: from saving a page to the served page showing the change (what the
    reader sees after sphinx-autobuild's reload), polled every 20 ms."""
    series = {v.name: Series() for v in variants}
    page = EDIT_PAGE.replace(".md", ".html")
    for v in variants:
        port = free_port()
        proc = subprocess.Popen(v.make_cmd("serve", f"SERVE_PORT={port}"), cwd=REPO,
                                env=v.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/{page}"
            give_up = time.monotonic() + 900  # the first full build; not a speed limit
            while fetch(url) is None:
                if proc.poll() is not None or time.monotonic() > give_up:
                    raise RuntimeError(f"make serve ({v.name}) never served {url}")
                time.sleep(0.5)
            time.sleep(2)  # let the first build's own reload settle
            for n in range(runs):
                marker = f"Benchmark save {n} of {v.name}."
                start = time.perf_counter()
                with (v.src / EDIT_PAGE).open("a", encoding="utf-8") as f:
                    f.write(f"\n{marker}\n")
                while marker not in (fetch(url) or ""):
                    if time.perf_counter() - start > 300:
                        raise RuntimeError(f"make serve ({v.name}): the edit never showed")
                    time.sleep(0.02)
                took = time.perf_counter() - start
                series[v.name].wall.setdefault("serve_reload", []).append(round(took, 3))
                log(f"{v.name} serve_reload run {n + 1}: {took:.1f} s wall")
                time.sleep(1)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the make process group started here
            proc.wait(timeout=60)
    return {name: s.summary() for name, s in series.items()}


# ---------------------------------------------------------------------------- diagrams

def book_diagrams(v: Variant) -> list[dict[str, str]]:
    """The Mermaid code of every diagram of the book, read by a Sphinx pass of its own."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    from handbook_tools.mermaid import collect

    with tempfile.TemporaryDirectory() as tmp, patch_docutils(v.src), docutils_namespace():
        app = Sphinx(str(v.src), str(v.src), str(Path(tmp, "out")), str(Path(tmp, "dt")),
                     "dummy", status=None, warning=io.StringIO(), freshenv=True,
                     confoverrides={"handbook_render_diagrams": False,
                                    "handbook_checks": False})
        app.build()
        return [{"page": d.docname, "code": d.code} for d in collect(app.env)]


def enough_diagrams(book: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """The book's diagrams, repeated up to ``count``; each copy ends in its own Mermaid
    comment, so no renderer can reuse an earlier result."""
    out = list(book)
    for n in range(len(book), count):
        d = book[n % len(book)]
        out.append({"page": d["page"], "code": d["code"] + f"\n%% benchmark copy {n}\n"})
    return out


def bench_diagrams(diagrams: list[dict[str, str]], runs: int) -> dict[str, Any]:
    node = shutil.which("node") or "node"
    mmdc = TOOLS / "node_modules" / ".bin" / "mmdc"
    series = Series()
    variants = (("light", "default"), ("dark", "dark"))
    env = {**os.environ, "CHROMIUM": CHROMIUM}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            jobs = [{"code": d["code"], "format": "svg", "theme": theme,
                     "svgId": f"d{i}-{name}", "out": str(Path(tmp, f"d{i}-{name}.svg"))}
                    for i, d in enumerate(diagrams) for name, theme in variants]
            took, proc = run_timed([node, str(SCRIPT), str(TOOLS / "node_modules")], env,
                                   stdin=json.dumps(jobs))
            series.add("batch", took)
            if proc.returncode != 0 or not all(r["ok"] for r in json.loads(proc.stdout)):
                raise RuntimeError(f"render-mermaid failed: {proc.stderr[-1000:]}")
        with tempfile.TemporaryDirectory() as tmp:
            puppeteer = Path(tmp, "puppeteer.json")
            puppeteer.write_text(json.dumps({"executablePath": CHROMIUM,
                                             "args": CHROMIUM_ARGS}))
            total = Timing(0.0, 0.0)
            for i, d in enumerate(diagrams):
                for name, theme in variants:
                    src = Path(tmp, f"d{i}-{name}.mmd")
                    src.write_text(d["code"], encoding="utf-8")
                    t = timed([str(mmdc), "-i", str(src), "-o", str(src.with_suffix(".svg")),
                               "-t", theme, "-b", "transparent", "-p", str(puppeteer), "-q"],
                              env)
                    total = Timing(total.wall + t.wall, total.cpu + t.cpu)
            series.add("per_diagram", total)
    log("diagrams: " + ", ".join(f"{k} {median(t)} s" for k, t in series.wall.items()))
    return {"diagrams": len(diagrams), "renders": 2 * len(diagrams),
            "book_diagrams": len({d["code"].split("\n%% benchmark copy")[0]
                                  for d in diagrams})} | series.summary()


# ---------------------------------------------------------------------------- page weight

KINDS = {"document": "html", "stylesheet": "css", "script": "js", "font": "font",
         "image": "image"}


def site_pages(html: Path) -> list[str]:
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if not p.relative_to(html).as_posix().startswith("_"))


def page_weights(html: Path, pages: list[str], precompressed: bool = False
                 ) -> dict[str, dict[str, Any]]:
    """What a browser with an empty cache fetches to show each page: requests and bytes
    (decoded), the bytes that crossed the wire (the build's ``.br``/``.gz`` copies when
    ``precompressed``, else the same), and what gzip would make of them."""
    from playwright.sync_api import sync_playwright

    out: dict[str, dict[str, Any]] = {}
    with serve_folder(html, precompressed=precompressed) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for page_path in pages:
            rec: dict[str, Any] = {"requests": 0, "bytes": 0, "sent_bytes": 0,
                                   "gzip_bytes": 0, "third_party": 0,
                                   "third_party_urls": [], "by_kind": {}}
            ctx = browser.new_context()  # an empty cache for every page

            def route(r: Any, rec: dict[str, Any]) -> None:
                host = urlsplit(r.request.url).hostname
                if urlsplit(r.request.url).scheme in ("http", "https") and host != "127.0.0.1":
                    rec["third_party"] += 1
                    rec["third_party_urls"].append(r.request.url)
                    r.abort()
                else:
                    r.continue_()

            def finished(req: Any, rec: dict[str, Any]) -> None:
                if urlsplit(req.url).hostname != "127.0.0.1":
                    return
                try:
                    body = req.response().body()
                    sent = req.sizes()["responseBodySize"]
                except Exception:  # a redirect or an aborted load has no body
                    body, sent = b"", 0
                kind = KINDS.get(req.resource_type, "other")
                rec["requests"] += 1
                rec["bytes"] += len(body)
                rec["sent_bytes"] += sent
                rec["gzip_bytes"] += len(gzip.compress(body, 6)) if body else 0
                k = rec["by_kind"].setdefault(kind, {"requests": 0, "bytes": 0,
                                                     "sent_bytes": 0})
                k["requests"] += 1
                k["bytes"] += len(body)
                k["sent_bytes"] += sent

            ctx.route("**/*", functools.partial(lambda rec, r: route(r, rec), rec))
            page = ctx.new_page()
            page.on("requestfinished",
                    functools.partial(lambda rec, req: finished(req, rec), rec))
            page.goto(base + page_path, wait_until="load")
            with suppress(Exception):  # a page that keeps the network busy still counts
                page.wait_for_load_state("networkidle", timeout=5000)
            ctx.close()
            out[page_path] = rec
        browser.close()
    return out


# ---------------------------------------------------------------------------- lighthouse

#: the reader targets of issue 17: the home page and the heaviest pages
READER_PAGES = ["index.html", "reference/facts.html", "reference/sources.html",
                "posture/troops.html"]
LIGHTHOUSE_AUDITS = ("first-contentful-paint", "largest-contentful-paint", "speed-index",
                     "total-blocking-time", "cumulative-layout-shift", "total-byte-weight")
#: (variant, served compressed, form factor) in the order they run
LIGHTHOUSE_RUNS = [("ours", True, "mobile"), ("ours", True, "desktop"),
                   ("ours", False, "mobile"), ("baseline", False, "mobile")]


def lighthouse(html: Path, pages: list[str], runs: int, form_factor: str = "mobile",
               precompressed: bool = False) -> dict[str, Any]:
    """Median of ``runs`` Lighthouse runs for each page: ``mobile`` is Lighthouse's default
    (simulated slow 4G, a mid-range phone's CPU), ``desktop`` its desktop preset."""
    cli = TOOLS / "node_modules" / ".bin" / "lighthouse"
    if os.environ.get("BENCH_LIGHTHOUSE", "1") == "0":
        return {"skipped": "BENCH_LIGHTHOUSE=0"}
    if not cli.exists():
        return {"skipped": "lighthouse is not installed in tools/node_modules (make setup)"}
    scores: dict[str, Any] = {}
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    preset = ["--preset=desktop"] if form_factor == "desktop" else []
    with (serve_folder(html, precompressed=precompressed) as base,
          tempfile.TemporaryDirectory() as tmp):
        for page, n in ((p, n) for p in pages for n in range(runs)):
            report = Path(tmp, f"report{n}.json")
            proc = subprocess.run(
                [str(cli), base + page, "--quiet", "--output=json", f"--output-path={report}",
                 "--only-categories=performance,accessibility,best-practices,seo",
                 "--chrome-flags=--headless --no-sandbox --disable-gpu", *preset],
                env=env, capture_output=True, text=True, timeout=300, check=False)
            runs_of_page = scores.setdefault(page, [])
            if proc.returncode != 0 or not report.is_file():
                runs_of_page.append({"error": proc.stderr.strip()[-300:]})
                continue
            data = json.loads(report.read_text())
            one: dict[str, Any] = {k: round(100 * v["score"])
                                   for k, v in data["categories"].items()
                                   if v.get("score") is not None}
            for audit in LIGHTHOUSE_AUDITS:
                value = data["audits"].get(audit, {}).get("numericValue")
                if value is not None:
                    one[audit] = round(value, 3) if audit == "cumulative-layout-shift" \
                        else round(value)
            one["failed"] = sorted(
                k for k, a in data["audits"].items()
                if a.get("score") is not None and a["score"] < 1
                and a.get("scoreDisplayMode") == "binary")
            runs_of_page.append(one)
    return {page: _median_scores(found) for page, found in scores.items()}


def _median_scores(found: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [f for f in found if "error" not in f]
    if not ok:
        return found[-1]
    keys = sorted({k for f in ok for k in f if k != "failed"}, key=list(ok[0]).index)
    failed = sorted({a for f in ok for a in f.get("failed", [])})
    return ({k: statistics.median(f[k] for f in ok if k in f) for k in keys}
            | {"failed_audits": failed, "runs": len(ok)})


def bench_reader(html: dict[str, Path], runs: int) -> dict[str, Any]:
    """The reader side: page weights of every page (ours served with the build's
    pre-compressed copies, the stock baseline as built, by a plain server), then Lighthouse
    on READER_PAGES in each of LIGHTHOUSE_RUNS."""
    result: dict[str, Any] = {}
    pages = [p for p in site_pages(html["ours"]) if (html["baseline"] / p).is_file()]
    result["pages"] = {"pages": pages}
    for name, compressed in (("ours", True), ("baseline", False)):
        log(f"page weight: {name}, {len(pages)} pages")
        result["pages"][name] = page_weights(html[name], pages, precompressed=compressed)
    lh: dict[str, Any] = {}
    lh_runs = int(os.environ.get("BENCH_LIGHTHOUSE_RUNS", str(runs)))
    for name, compressed, form in LIGHTHOUSE_RUNS:
        served = "compressed" if compressed else "plain"
        log(f"lighthouse: {name}, {form}, served {served}, {lh_runs} run(s) a page")
        scores = lighthouse(html[name], READER_PAGES, lh_runs, form, compressed)
        if "skipped" in scores:
            lh = scores
            break
        lh.setdefault(name, {}).setdefault(served, {})[form] = scores
    result["lighthouse"] = lh
    return result


# ---------------------------------------------------------------------------- report

def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "n/a"


def fmt_s(v: float | None) -> str:
    return f"{v:.1f} s" if v is not None else "n/a"


def fmt_kb(v: float) -> str:
    return f"{v / 1024:.0f} KB"


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def contributor_targets(result: dict[str, Any]) -> str:
    """Issue 17's targets for contributors: each figure, its limit from the baseline of the
    same run, and whether it is met."""
    o, b = result["builds"]["ours"]["median"], result["builds"]["baseline"]["median"]
    oc, bc = result["builds"]["ours"]["cpu_median"], result["builds"]["baseline"]["cpu_median"]
    d = result.get("diagrams")
    rows = [("contributor target", "ours", "limit", "met")]

    def target(label: str, value: float | None, limit: float | None, met: bool | None,
               unit: str = "s") -> None:
        shown = "n/a" if value is None else (f"{value:.2f} {unit}" if unit else f"{value:.2f}")
        lim = "n/a" if limit is None else (f"{limit:.2f} {unit}" if unit else f"{limit:.2f}")
        rows.append((label, shown, lim, "n/a" if met is None else ("yes" if met else "NO")))

    def within(value: float | None, limit: float | None) -> bool | None:
        return None if value is None or limit is None else value <= limit

    nochange = o.get("make_nochange")
    target("no-change `make` <= 1 s", nochange, 1.0, within(nochange, 1.0))
    for key, label, extra in (("html_edit", "one-page edit <= base + 0.5 s", 0.5),
                              ("html_nochange", "no-change rebuild <= base + 0.3 s", 0.3)):
        lim = b[key] + extra if b.get(key) is not None else None
        target(label, o.get(key), lim, within(o.get(key), lim))
        # CPU seconds depend less on the machine's load than wall time
        lim = bc[key] + extra if bc.get(key) is not None else None
        target(label.replace(" <=", ", CPU <="), oc.get(key), lim, within(oc.get(key), lim))
    lim = 1.25 * b["html_clean"] if b.get("html_clean") is not None else None
    target("clean HTML build <= 1.25 x base", o.get("html_clean"), lim,
           within(o.get("html_clean"), lim))
    lim = 1.25 * bc["html_clean"] if bc.get("html_clean") is not None else None
    target("clean HTML build, CPU <= 1.25 x base", oc.get("html_clean"), lim,
           within(oc.get("html_clean"), lim))
    if d is not None:
        batch, each = d["median"].get("batch"), d["median"].get("per_diagram")
        speedup = each / batch if batch and each else None
        target(f"diagrams ({d['diagrams']}): one mmdc each / one batch >= 3", speedup, 3.0,
               None if speedup is None else speedup >= 3.0, unit="")
    target("PDF after a one-page edit (report; base)", o.get("pdf_edit"), b.get("pdf_edit"),
           None)
    serve = result.get("serve", {})
    if serve:
        target("make serve: save to reload (report; base)",
               serve["ours"]["median"].get("serve_reload"),
               serve["baseline"]["median"].get("serve_reload"), None)
    return table(rows)


def report(result: dict[str, Any]) -> str:
    b_ours, b_base = result["builds"]["ours"], result["builds"]["baseline"]
    labels = {"html_clean": "clean HTML build",
              "html_nochange": "no-change HTML rebuild (sphinx-build runs)",
              "html_edit": f"HTML rebuild after editing {EDIT_PAGE}",
              "pdf_clean": "clean PDF build", "pdf_edit": f"PDF after editing {EDIT_PAGE}",
              "make_nochange": "no-change `make` (base: no stamps)",
              "check": "make check"}
    rows = [("median of the runs", "ours wall", "base wall", "ours/base", "ours CPU",
             "base CPU", "ours/base")]

    def row(label: str, a: dict[str, Any], b: dict[str, Any], ka: str, kb: str) -> None:
        wa, wb = a["median"].get(ka), b["median"].get(kb)
        ca, cb = a["cpu_median"].get(ka), b["cpu_median"].get(kb)
        rows.append((label, fmt_s(wa), fmt_s(wb), ratio(wa, wb), fmt_s(ca), fmt_s(cb),
                     ratio(ca, cb)))

    for key, label in labels.items():
        if key in b_ours["median"] or key in b_base["median"]:
            row(label, b_ours, b_base, key, key)
    d = result.get("diagrams")
    if d is not None:
        row(f"{d['renders']} diagram renders: one batch (ours) vs one mmdc each (base)", d, d,
            "batch", "per_diagram")
    serve = result.get("serve", {})
    if serve:
        row(f"make serve: save {EDIT_PAGE} -> served page changed", serve["ours"],
            serve["baseline"], "serve_reload", "serve_reload")
    out = [f"runs: {result['runs']} (PDF: {result['pdf_runs']}); medians; "
           f"{result['cpus']} CPU(s); load before: {result.get('load', 'n/a')}", "",
           table(rows), "", contributor_targets(result), ""]
    return "\n".join(out)


def report_reader(result: dict[str, Any]) -> str:
    """Page weights and Lighthouse scores (the reader side)."""
    w_ours, w_base = result["pages"]["ours"], result["pages"]["baseline"]
    pages = result["pages"]["pages"]
    rows = [("page (empty cache)", "ours req", "ours KB", "sent KB", "3rd-party",
             "base req", "base KB", "3rd-party", "KB ours/base")]
    for page in pages:
        o, b = w_ours[page], w_base[page]
        rows.append((page, str(o["requests"]), f"{o['bytes'] / 1024:.0f}",
                     f"{o['sent_bytes'] / 1024:.0f}", f"{o['third_party']} blocked",
                     str(b["requests"]), f"{b['bytes'] / 1024:.0f}",
                     f"{b['third_party']} blocked", ratio(o["bytes"], b["bytes"])))

    def med(w: dict[str, Any], key: str) -> float:
        return statistics.median(w[p][key] for p in pages)

    rows.append(("MEDIAN PAGE", f"{med(w_ours, 'requests'):.0f}",
                 f"{med(w_ours, 'bytes') / 1024:.0f}", f"{med(w_ours, 'sent_bytes') / 1024:.0f}",
                 f"{med(w_ours, 'third_party'):.0f} blocked", f"{med(w_base, 'requests'):.0f}",
                 f"{med(w_base, 'bytes') / 1024:.0f}", f"{med(w_base, 'third_party'):.0f} blocked",
                 ratio(med(w_ours, "bytes"), med(w_base, "bytes"))))
    out = ["KB: uncompressed; sent KB: what crossed the wire from the build's .br/.gz copies",
           table(rows), "", "home page by kind (requests / KB / sent KB), ours | baseline:"]
    home = "index.html"
    for kind in sorted(set(w_ours[home]["by_kind"]) | set(w_base[home]["by_kind"])):
        o = w_ours[home]["by_kind"].get(kind, {"requests": 0, "bytes": 0, "sent_bytes": 0})
        b = w_base[home]["by_kind"].get(kind, {"requests": 0, "bytes": 0})
        out.append(f"  {kind:6} {o['requests']:3} / {fmt_kb(o['bytes']):>8} / "
                   f"{fmt_kb(o['sent_bytes']):>8} | {b['requests']:3} / {fmt_kb(b['bytes']):>8}")
    third = sorted({u for p in pages for u in w_base[p]["third_party_urls"]})
    if third:
        out.append("baseline third-party requests (blocked, bytes unknown): " + ", ".join(third))
    out.append("")
    lh = result["lighthouse"]
    if "skipped" in lh:
        out.append(f"Lighthouse skipped: {lh['skipped']}")
        return "\n".join(out)
    out.append("Lighthouse 12 (median of the runs): mobile = its default (simulated slow 4G, "
               "mid-range phone); desktop = --preset=desktop")
    rows = [("page", "variant", "served", "form", "perf", "FCP", "LCP", "TBT", "a11y",
             "best pr.", "SEO", "KB sent")]
    failed: list[str] = []
    for name, compressed, form in LIGHTHOUSE_RUNS:
        served = "compressed" if compressed else "plain"
        for page, s in lh.get(name, {}).get(served, {}).get(form, {}).items():
            if "error" in s:
                rows.append((page, name, served, form, "error", *[""] * 7))
                failed.append(f"{page} {name} {form}: {s['error']}")
                continue
            rows.append((page, name, served, form, f"{s.get('performance', 0):.0f}",
                         f"{s.get('first-contentful-paint', 0) / 1000:.1f} s",
                         f"{s.get('largest-contentful-paint', 0) / 1000:.1f} s",
                         f"{s.get('total-blocking-time', 0):.0f} ms",
                         f"{s.get('accessibility', 0):.0f}",
                         f"{s.get('best-practices', 0):.0f}", f"{s.get('seo', 0):.0f}",
                         f"{s.get('total-byte-weight', 0) / 1024:.0f}"))
            if s.get("failed_audits") and name == "ours":
                failed.append(f"{page} {name} {served} {form}: failed audits "
                              + ", ".join(s["failed_audits"]))
    out += [table(rows), *failed]
    return "\n".join(out)


def main() -> int:
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    pdf_runs = int(os.environ.get("BENCH_PDF_RUNS", "1"))
    # BENCH_ONLY=reader: one untimed build of each variant, then only page weights and
    # Lighthouse (the reader side), without the build timings and diagrams;
    # BENCH_ONLY=html: only the HTML builds (clean, no change, one-page edit)
    only = os.environ.get("BENCH_ONLY", "")
    if only not in ("", "reader", "html"):
        log(f"BENCH_ONLY={only!r}: expected 'reader', 'html' or nothing")
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    # BENCH_SPHINXOPTS: try other sphinx-build options for ours (default: the Makefile's)
    ours = Variant("ours", os.environ.get("BENCH_SPHINXOPTS"))
    baseline = Variant("baseline", "-q")
    result: dict[str, Any] = {"runs": runs, "pdf_runs": pdf_runs, "cpus": os.cpu_count(),
                              "edited_page": EDIT_PAGE, "only": only or "all",
                              "uptime": Path("/proc/loadavg").read_text().split()[:3]
                              if Path("/proc/loadavg").is_file() else None}
    for v in (ours, baseline):
        v.prepare()
    result["load"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if only == "reader":
        for v in (ours, baseline):
            log(f"{v.name}: html build (untimed)")
            v.make("html")
    elif only == "html":
        result["pdf_runs"] = 0
        result["builds"] = bench_builds([ours, baseline], runs, 0, html_only=True)
    else:
        result["builds"] = bench_builds([ours, baseline], runs, pdf_runs)
        result["serve"] = bench_serve([ours, baseline],
                                      int(os.environ.get("BENCH_SERVE_RUNS", str(runs))))
        diagrams = enough_diagrams(book_diagrams(ours),
                                   int(os.environ.get("BENCH_DIAGRAMS", "8")))
        result["diagrams"] = bench_diagrams(diagrams, runs)
    if only != "html":
        result |= bench_reader({v.name: v.build / "html" for v in (ours, baseline)}, runs)
    (OUT / "bench.json").write_text(json.dumps(result, indent=1))
    text = (report(result) + "\n" if "builds" in result else "")
    text += report_reader(result) if only != "html" else ""
    text += f"\nload average at the start (1, 5, 15 min): {result['uptime']}"
    (OUT / "bench.txt").write_text(text + "\n")
    print(text)
    print(f"\nwritten: {OUT / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
