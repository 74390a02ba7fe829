"""Sphinx's own ``linkcheck`` builder against a local fault server, then ``linkreport``.

The server listens on ``127.0.0.1`` (port 0, so the OS picks a free one) in a daemon thread;
nothing here touches the internet.  ``tests/roots/test-linkcheck`` links to one path per
fault, with ``PORT`` as a placeholder the test replaces with the real port.  Every request
is bounded by ``linkcheck_timeout`` (2 s) and the server's own sleeps are interruptible, so
the module finishes in a few seconds.

Statuses are those Sphinx 9.0 writes to ``output.json`` (``sphinx/builders/linkcheck.py``):

* a redirect matched by ``linkcheck_allowed_redirects`` is ``working`` (code 0, no info);
  an unmatched one is ``redirected``, with the redirect's own status code and the target
  URL as info;
* a 429 with ``Retry-After: 1`` is re-queued and gives a single ``working`` row (the
  intermediate ``rate-limited`` result is never written);
* a redirect loop (requests' ``TooManyRedirects`` on HEAD, then on GET) is ``broken``;
* a missing anchor is ``broken`` with ``Anchor '...' not found``;
* a request exceeding the timeout is ``timeout`` (``linkcheck_report_timeouts_as_broken``
  is False).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import ROOTS
from handbook_tools.cli import main

ROOT = ROOTS / "test-linkcheck"
SLOW_SECONDS = 5.0  # longer than linkcheck_timeout (2 s); cut short when the server stops

OK_PAGE = (b'<!DOCTYPE html><html><head><title>ok</title></head><body>'
           b'<h1>OK</h1><h2 id="present">Present</h2><p>Text.</p></body></html>')


def tiny_pdf(*lines: str) -> bytes:
    """A one-page PDF (Helvetica, one text line per argument), written by hand."""
    ops = " ".join(f"({line}) Tj 0 -14 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {ops} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


# the excerpt of fact troops.2024 is "The country has about 2,500 troops." and that of
# invasion.start "The invasion began on 20 March 2003." (tests/roots/test-clean)
ARTICLE = ("<!DOCTYPE html><html><head><title>Troops</title>"
           "<script>var s = 'The invasion began on 20 March 2003.';</script></head><body>"
           "<nav>Home</nav><article><p>THE   country has <b>about&nbsp;2,500</b>\n troops."
           "</p><p>Officials said \u201cthe invasion began on 20&#160;March 2003.\u201d"
           "</p></article></body></html>").encode()
REWORDED = (b"<html><body><p>The country keeps roughly 2,500 troops.</p>"
            b"<p>The invasion started on 20 March 2003.</p></body></html>")
REMOVED = b"<html><body><p>This article has been updated.</p></body></html>"
PAYWALL = b"<html><body><p>Subscribe to read this article.</p></body></html>"
HOME = b"<html><body><h1>Welcome to the news site</h1></body></html>"
PAGES: dict[str, tuple[str, bytes]] = {
    "/article": ("text/html; charset=utf-8", ARTICLE),
    "/reworded": ("text/html; charset=utf-8", REWORDED),
    "/removed": ("text/html", REMOVED),
    "/report.pdf": ("application/pdf",
                    tiny_pdf("Annual report. The country has about", "2,500 troops.",
                             "The invasion began on 20 March 2003.")),
}


class FaultHandler(BaseHTTPRequestHandler):
    """One path per fault; see ``tests/roots/test-linkcheck/index.md``."""

    server: FaultServer
    timeout = 5  # a stuck client cannot hold a handler thread for ever

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep pytest output quiet

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _send(self, code: int, payload: bytes = b"", body: bool = True,
              headers: dict[str, str] | None = None) -> None:
        headers = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        self.send_response(code)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body and payload:
            self.wfile.write(payload)

    def _answer(self, body: bool) -> None:
        path = self.path.split("?", 1)[0]
        srv = self.server
        with srv.lock:
            srv.hits[path] += 1
            hits = srv.hits[path]
        try:
            if path in srv.overrides:
                code, payload, extra = srv.overrides[path]
                self._send(code, payload, body, headers=extra)
            elif path in PAGES:
                ctype, payload = PAGES[path]
                self._send(200, payload, body, headers={"Content-Type": ctype})
            elif path == "/ok":
                self._send(200, OK_PAGE, body)
            elif path == "/missing":
                self._send(404, b"<p>not found</p>", body)
            elif path == "/error":
                self._send(500, b"<p>server error</p>", body)
            elif path == "/redirect":
                self._send(301, body=body, headers={"Location": "/ok"})
            elif path == "/moved":
                self._send(302, body=body, headers={"Location": "/ok"})
            elif path == "/loop":
                self._send(302, body=body, headers={"Location": "/loop"})
            elif path == "/ratelimited":
                if hits == 1:
                    self._send(429, b"<p>slow down</p>", body, headers={"Retry-After": "1"})
                else:
                    self._send(200, OK_PAGE, body)
            elif path == "/gone":
                self._send(410, b"<p>gone</p>", body)
            elif path == "/forbidden":
                self._send(403, PAYWALL, body)
            elif path == "/flaky":
                if hits == 1:
                    self._send(503, b"<p>try again</p>", body)
                else:
                    self._send(200, ARTICLE, body)
            elif path in ("/behind-redirect", "/to-home", "/to-notfound", "/to-login"):
                target = {"/behind-redirect": "/article", "/to-home": "/",
                          "/to-notfound": "/errors/404.html",
                          "/to-login": "/account/login?next=/to-login"}[path]
                self._send(301, body=body, headers={"Location": target})
            elif path in ("/", "/errors/404.html"):
                self._send(200, HOME, body)
            elif path == "/account/login":
                self._send(200, PAYWALL, body)
            elif path == "/slow":
                # longer than the client's timeout; returns early when the server stops
                srv.stopping.wait(SLOW_SECONDS)
                self._send(200, OK_PAGE, body)
            else:
                self._send(404, b"<p>unknown path</p>", body)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the /slow case): nothing to report


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.stopping = threading.Event()
        #: path -> (status, body, headers): a page that changes between runs
        self.overrides: dict[str, tuple[int, bytes, dict[str, str]]] = {}

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def fault_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """A fresh local server per test (its 429-once state must not leak between tests)."""
    # never send 127.0.0.1 through a proxy configured in the environment
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = FaultServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class LinkcheckRun:
    outdir: Path
    rows: list[dict[str, object]]
    statuscode: int
    status: str
    warnings: str

    def by_path(self, port: int) -> dict[str, dict[str, object]]:
        prefix = f"http://127.0.0.1:{port}"
        result: dict[str, dict[str, object]] = {}
        for row in self.rows:
            uri = str(row["uri"])
            assert uri.startswith(prefix), uri
            key = uri[len(prefix):]
            assert key not in result, f"two rows for {uri}"
            result[key] = row
        return result


def make_project(dest: Path, port: int, index: str | None = None) -> Path:
    shutil.copytree(ROOT, dest)
    page = dest / "index.md"
    text = index if index is not None else page.read_text(encoding="utf-8")
    page.write_text(text.replace("PORT", str(port)), encoding="utf-8")
    return dest


def run_linkcheck(make_app, srcdir: Path) -> LinkcheckRun:
    """Sphinx's linkcheck builder on a project (``sphinx.testing``'s ``make_app``)."""
    # the linkcheck builder sets a process-wide default socket timeout; put it back after
    old_timeout = socket.getdefaulttimeout()
    try:
        app = make_app("linkcheck", srcdir=srcdir, freshenv=True)
        app.build()
    finally:
        socket.setdefaulttimeout(old_timeout)
    outdir, statuscode = Path(app.outdir), app.statuscode
    status, warning = app.status, app.warning
    lines = (outdir / "output.json").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    for row in rows:
        assert set(row) >= {"filename", "lineno", "status", "code", "uri", "info"}, row
    return LinkcheckRun(outdir, rows, statuscode, status.getvalue(), warning.getvalue())


def linkreport(output_json: Path) -> tuple[int, str, list[dict[str, object]]]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["linkreport", str(output_json)])
    report = json.loads((output_json.parent / "report.json").read_text(encoding="utf-8"))
    return code, out.getvalue(), report


def line_of(page: Path, needle: str) -> int:
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {page}")


EXPECTED_STATUS = {
    "/ok": "working",
    "/missing": "broken",
    "/error": "broken",
    "/redirect": "working",      # 301 -> /ok, allowed by linkcheck_allowed_redirects
    "/moved": "redirected",      # 302 -> /ok, not allowed
    "/loop": "broken",           # redirects to itself: TooManyRedirects
    "/ratelimited": "working",   # 429 + Retry-After: 1, then 200
    "/slow": "timeout",
    "/ok#present": "working",
    "/ok#absent": "broken",      # Anchor 'absent' not found
}


def test_linkcheck_reports_each_fault_exactly(tmp_path: Path, make_app,
                                              fault_server: FaultServer) -> None:
    port = fault_server.port
    src = make_project(tmp_path / "p", port)
    run = run_linkcheck(make_app, src)
    assert "Traceback" not in run.status + run.warnings

    rows = run.by_path(port)
    assert {k: r["status"] for k, r in rows.items()} == EXPECTED_STATUS
    assert len(run.rows) == len(EXPECTED_STATUS)

    base = f"http://127.0.0.1:{port}"
    page = src / "index.md"
    for key, row in rows.items():
        assert row["filename"] == "index.md"
        assert row["lineno"] == line_of(page, f"({base}{key})"), key

    # codes and messages that distinguish the faults
    assert rows["/ok"]["code"] == 0 and rows["/ok"]["info"] == ""
    assert rows["/missing"]["info"].startswith("404 Client Error: Not Found")
    assert rows["/error"]["info"].startswith("500 Server Error")
    assert rows["/redirect"]["code"] == 0 and rows["/redirect"]["info"] == ""
    assert rows["/moved"]["code"] == 302 and rows["/moved"]["info"] == f"{base}/ok"
    assert "Exceeded 30 redirects" in rows["/loop"]["info"]
    assert rows["/ratelimited"]["info"] == ""
    assert "timed out" in rows["/slow"]["info"].lower()
    assert rows["/ok#absent"]["info"] == "Anchor 'absent' not found"

    # the server really saw the 429 then the retry, and the loop really looped
    assert fault_server.hits["/ratelimited"] >= 2
    assert fault_server.hits["/loop"] > 30

    # broken links and timeouts make the build fail; the unmatched redirect is a warning
    assert run.statuscode == 1
    assert f"redirect  {base}/moved - with Found to {base}/ok" in run.warnings
    assert f"{base}/redirect" not in run.warnings

    code, out, report = linkreport(run.outdir / "output.json")
    assert code == 1
    assert len(report) == len(EXPECTED_STATUS)
    assert {r["uri"]: r["status"] for r in report} == {
        base + k: v for k, v in EXPECTED_STATUS.items()}
    assert all(set(r) == {"uri", "page", "line", "status", "code", "info"} for r in report)
    bad = sorted(k for k, v in EXPECTED_STATUS.items() if v in ("broken", "timeout"))
    listed = sorted(line.split(": ", 2)[2].split(" ", 1)[0][len(base):]
                    for line in out.splitlines() if line.startswith("index.md:"))
    assert listed == bad
    assert out.splitlines()[0] == "linkcheck: 4 broken, 1 redirected, 1 timeout, 4 working"


def test_clean_page_is_all_working(tmp_path: Path, make_app,
                                   fault_server: FaultServer) -> None:
    port = fault_server.port
    src = make_project(tmp_path / "p", port,
                       index="# Clean\n\nSee [ok](http://127.0.0.1:PORT/ok).\n")
    run = run_linkcheck(make_app, src)
    assert "Traceback" not in run.status + run.warnings
    assert run.warnings == ""
    assert run.statuscode == 0
    assert run.rows, "no link checked"
    assert {r["status"] for r in run.rows} == {"working"}
    assert [r["uri"] for r in run.rows] == [f"http://127.0.0.1:{port}/ok"]

    code, out, report = linkreport(run.outdir / "output.json")
    assert code == 0
    assert [(r["uri"], r["status"]) for r in report] == [(f"http://127.0.0.1:{port}/ok",
                                                          "working")]
    assert out.splitlines()[0] == "linkcheck: 1 working"


# --------------------------------------------------------------------------- sources
# ``python -m handbook_tools linkcheck`` (``make linkcheck``): every source URL's status and
# the excerpts of the facts citing it, recorded in link-status.yaml.

TROOPS = "The country has about 2,500 troops."
INVASION = "The invasion began on 20 March 2003."
BIB_ENTRY = """@misc{{{key},
  author       = {{{{News Agency}}}},
  title        = {{Page {key}}},
  howpublished = {{News Agency}},
  year         = {{2024}},
  url          = {{{url}}},
  urldate      = {{2026-01-01}}{extra}
}}

"""


def sources_project(dest: Path, urls: dict[str, str], both: tuple[str, ...] = ()) -> Path:
    """A copy of test-clean whose sources are ``urls`` (key -> url); fact ``f.KEY`` quotes
    TROOPS from each, and ``g.KEY`` quotes INVASION from the keys in ``both``."""
    import datetime as dt

    import yaml

    shutil.copytree(ROOTS / "test-clean", dest, dirs_exist_ok=True)
    (dest / "_data" / "sources.bib").write_text(
        "".join(BIB_ENTRY.format(key=k, url=u, extra="") for k, u in urls.items()),
        encoding="utf-8")
    facts = [{"id": f"f.{k}", "value": "about 2,500", "as_of": "2024-09", "review_by": "never",
              "sources": [k], "excerpt": TROOPS} for k in urls]
    facts += [{"id": f"g.{k}", "value": "20 March 2003", "as_of": dt.date(2003, 3, 20),
               "review_by": "never", "sources": [k], "excerpt": INVASION} for k in both]
    (dest / "_data" / "facts" / "main.yaml").write_text(yaml.safe_dump(facts, sort_keys=False),
                                                        encoding="utf-8")
    return dest


FAST = ["--timeout", "1", "--retries", "1", "--backoff", "0.05", "--max-retry-after", "5"]


def sourcecheck(project: Path, day: str, *extra: str, write: bool = True) -> tuple[int, str]:
    """Run the command as ``make linkcheck`` does; (exit code, stdout + stderr)."""
    from contextlib import redirect_stderr

    out = io.StringIO()
    args = ["linkcheck", str(project), "--date", day,
            "--report", str(project / "_build" / "report.json"), *FAST, *extra]
    if write:
        args += ["--write", str(project / "_data" / "link-status.yaml")]
    with redirect_stdout(out), redirect_stderr(out):
        code = main(args)
    return code, out.getvalue()


def status_records(project: Path) -> dict[str, dict[str, object]]:
    import yaml

    records = yaml.safe_load((project / "_data" / "link-status.yaml").read_text("utf-8"))
    return {str(r["source"]): r for r in records}


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def second_server(fault_server: FaultServer) -> Iterator[FaultServer]:
    """Another host: a run needs most hosts reachable, or the network 'looks down'."""
    server = FaultServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_each_fault_is_recorded_for_what_it_is(tmp_path: Path, fault_server: FaultServer,
                                               second_server: FaultServer) -> None:
    base = f"http://127.0.0.1:{fault_server.port}"
    other = f"http://localhost:{second_server.port}"
    third = f"http://127.0.0.1:{second_server.port}"
    urls = {
        "article": f"{base}/article", "reworded": f"{base}/reworded",
        "removed": f"{base}/removed", "redirect": f"{base}/behind-redirect",
        "pdf": f"{base}/report.pdf", "home": f"{base}/to-home",
        "notfound": f"{other}/to-notfound", "missing": f"{other}/missing",
        "gone": f"{other}/gone", "forbidden": f"{other}/forbidden",
        "login": f"{other}/to-login",
        "error": f"{third}/error", "flaky": f"{third}/flaky",
        "ratelimited": f"{third}/ratelimited", "slow": f"{third}/slow",
        "refused": f"http://127.0.0.1:{closed_port()}/page",
        "nodns": "http://no-such-host.invalid/page",
    }
    project = sources_project(tmp_path / "p", urls, both=("article", "pdf", "reworded"))
    code, out = sourcecheck(project, "2026-11-20")
    assert "Traceback" not in out
    assert code == 1, out  # suspect sources and missing excerpts
    got = status_records(project)
    state = {k: (r["status"], r.get("excerpts")) for k, r in got.items()}
    assert state == {
        "article": ("live", {"f.article": "found", "g.article": "found"}),
        "reworded": ("live", {"f.reworded": "missing", "g.reworded": "missing"}),
        "removed": ("live", {"f.removed": "missing"}),
        "redirect": ("live", {"f.redirect": "found"}),
        "pdf": ("live", {"f.pdf": "found", "g.pdf": "found"}),
        "flaky": ("live", {"f.flaky": "found"}),  # a 503, then the page
        # 429 + Retry-After: 1, then OK_PAGE, which lacks the excerpt
        "ratelimited": ("live", {"f.ratelimited": "missing"}),
        # definite answers: suspect on their first day
        "home": ("suspect", None), "notfound": ("suspect", None),
        "missing": ("suspect", None), "gone": ("suspect", None),
        # no definite answer: never dead, excerpts unknown (a 403 is not "missing")
        "forbidden": ("unreachable", None), "login": ("unreachable", None),
        "error": ("unreachable", None),
        "slow": ("unreachable", None), "refused": ("unreachable", None),
        "nodns": ("unreachable", None),
    }
    assert got["missing"]["info"] == "404 Not Found"
    assert got["gone"]["info"] == "410 Gone"
    assert got["home"]["info"] == f"redirected to an unrelated page: {base}/"
    assert got["forbidden"]["info"] == "403 Forbidden: the site refused the check"
    assert got["error"]["info"] == "500 Internal Server Error: server error"
    assert got["slow"]["info"] == "timed out"
    assert got["refused"]["info"] == "connection refused"
    assert got["nodns"]["info"] == "the name did not resolve"
    for key in ("missing", "home", "slow", "nodns"):
        assert str(got[key]["first_seen"]) == str(got[key]["checked"]) == "2026-11-20"
    assert fault_server.hits["/removed"] == 1  # one GET per URL, no HEAD first
    assert second_server.hits["/error"] == 2  # one retry after a 5xx
    assert second_server.hits["/flaky"] == 2 and second_server.hits["/ratelimited"] == 2
    report = json.loads((project / "_build" / "report.json").read_text("utf-8"))
    assert {r["source"]: r["result"] for r in report}["forbidden"] == "unreachable"
    assert "excerpt missing: fact 'f.removed' at removed" in out

    # the file is plain and stable: sorted by URL, no anchors, fields in one order
    text = (project / "_data" / "link-status.yaml").read_text("utf-8")
    assert "&id" not in text and "*id" not in text
    import yaml

    records = yaml.safe_load(text)
    assert [r["url"] for r in records] == sorted(r["url"] for r in records)
    order = ["url", "source", "status", "first_seen", "checked", "info", "excerpts_checked",
             "excerpts"]
    for rec in records:
        assert list(rec) == [k for k in order if k in rec]
    # a second run the same day confirms nothing and writes the same bytes
    code, out = sourcecheck(project, "2026-11-20")
    assert (project / "_data" / "link-status.yaml").read_text("utf-8") == text


def test_two_day_rule_and_revival(tmp_path: Path, fault_server: FaultServer,
                                  second_server: FaultServer) -> None:
    base = f"http://127.0.0.1:{fault_server.port}"
    urls = {"missing": f"{base}/missing", "home": f"{base}/to-home",
            "article": f"http://127.0.0.1:{second_server.port}/article"}
    project = sources_project(tmp_path / "p", urls)

    def states() -> dict[str, tuple[object, ...]]:
        return {k: (r["status"], str(r.get("first_seen")), str(r["checked"]))
                for k, r in status_records(project).items()}

    assert sourcecheck(project, "2026-11-20")[0] == 1
    assert states() == {"missing": ("suspect", "2026-11-20", "2026-11-20"),
                        "home": ("suspect", "2026-11-20", "2026-11-20"),
                        "article": ("live", "None", "2026-11-20")}
    # the next day the server fails (5xx, a timeout): no definite answer, no change
    fault_server.overrides["/missing"] = (500, b"down", {})
    fault_server.overrides["/to-home"] = (503, b"down", {})
    sourcecheck(project, "2026-11-21")
    assert states()["missing"] == ("suspect", "2026-11-20", "2026-11-20")
    assert states()["home"] == ("suspect", "2026-11-20", "2026-11-20")
    # a definite answer on another day confirms it: dead
    fault_server.overrides.clear()
    sourcecheck(project, "2026-11-22")
    assert states()["missing"] == ("dead", "2026-11-20", "2026-11-22")
    assert states()["home"] == ("dead", "2026-11-20", "2026-11-22")
    # dead stays dead through an unreachable run
    fault_server.overrides["/missing"] = (502, b"down", {})
    sourcecheck(project, "2026-11-23")
    assert states()["missing"] == ("dead", "2026-11-20", "2026-11-22")
    # working again: the record goes (here the page is an image: no excerpt to record)
    fault_server.overrides["/missing"] = (200, b"\x89PNG", {"Content-Type": "image/png"})
    sourcecheck(project, "2026-11-24")
    assert "missing" not in states()
    assert states()["home"][0] == "dead"
    # working again as a page: live, with its excerpts (first_seen and info go)
    fault_server.overrides["/to-home"] = (200, ARTICLE, {})
    sourcecheck(project, "2026-11-25")
    rec = status_records(project)["home"]
    assert rec == {"url": f"{base}/to-home", "source": "home", "status": "live",
                   "checked": rec["checked"], "excerpts_checked": rec["checked"],
                   "excerpts": {"f.home": "found"}}
    assert str(rec["checked"]) == "2026-11-25"


def test_no_network_writes_nothing(tmp_path: Path, fault_server: FaultServer) -> None:
    """Offline: every host fails to resolve or refuses. Nothing is written, the run says the
    network looks down (exit 3), and records already there are untouched."""
    port = closed_port()
    urls = {f"s{i}": (f"http://host{i}.invalid/page" if i % 2 else
                      f"http://127.0.0.1:{port}/page{i}") for i in range(6)}
    project = sources_project(tmp_path / "p", urls)
    status = project / "_data" / "link-status.yaml"
    before = ("# kept as it is\n- url: http://host1.invalid/page\n  source: s1\n"
              "  status: suspect\n  first_seen: 2026-11-19\n  checked: 2026-11-19\n")
    status.write_text(before, encoding="utf-8")
    import time

    start = time.monotonic()
    code, out = sourcecheck(project, "2026-11-20")
    assert time.monotonic() - start < 10
    assert code == 3
    assert "network looks down: 4 of 4 hosts could not be reached" in out
    assert "Nothing was written" in out and "no link was found dead" in out
    assert status.read_text("utf-8") == before
    # the same when most hosts, not all, fail: four of five
    urls["live"] = f"http://127.0.0.1:{fault_server.port}/article"
    sources_project(project, urls)
    code, out = sourcecheck(project, "2026-11-20")
    assert code == 3 and "network looks down: 4 of 5 hosts" in out
    assert status.read_text("utf-8") == before


def test_excerpt_comparison() -> None:
    from handbook_tools.webpages import excerpt_found, html_text, normalise

    page = normalise(html_text(ARTICLE.decode()))
    assert "var s" not in page and "home" in page  # scripts go, navigation text stays
    assert excerpt_found(TROOPS, page)
    assert excerpt_found("\u201cThe invasion began on 20 March 2003\u201d", page)
    assert excerpt_found("the country has ... 2,500 troops", page)  # an elision
    assert not excerpt_found("troops ... the country has", page)  # parts in order
    assert normalise("It\u2019s \u201cfine\u201d \u2014 2003\u20132011") == \
        normalise("it's 'FINE' - 2003-2011") == "its fine-2003-2011"
    assert normalise("a&nbsp;b &amp; c\u00adc") == "a b & cc"


def test_excerpt_gone_is_shown_to_readers(tmp_path: Path, build, fault_server: FaultServer,
                                          second_server: FaultServer) -> None:
    """linkcheck finds the excerpt gone from the only source -> the build marks the fact
    beside its value and in the register, with the date, and warns about nothing."""
    project = tmp_path / "p"
    shutil.copytree(ROOTS / "test-clean", project)
    bib = project / "_data" / "sources.bib"
    url = f"http://127.0.0.1:{fault_server.port}/article"
    bib.write_text(bib.read_text("utf-8").replace("http://127.0.0.1:9/troops", url), "utf-8")
    with (bib.open("a", encoding="utf-8")) as fh:  # a second host, so the network is up
        fh.write(BIB_ENTRY.format(key="other", url=f"http://127.0.0.1:{second_server.port}/ok",
                                  extra=""))
    (project / "sources.md").write_text("# Sources\n\n```{bibliography}\n:all:\n```\n", "utf-8")
    assert sourcecheck(project, "2026-11-20")[0] == 0
    first = build(project)
    assert first.warnings == ""
    assert "excerpt not found" not in (first.outdir / "index.html").read_text("utf-8")

    fault_server.overrides["/article"] = (200, REMOVED, {})
    code, out = sourcecheck(project, "2026-11-21")
    assert code == 1 and "excerpt missing: fact 'troops.2024' at agency2024troops" in out
    after = build(project, freshenv=False)
    assert after.warnings == ""  # a notice to readers, not a build warning
    index = (after.outdir / "index.html").read_text("utf-8")
    assert index.count('<span class="hb-excerpt-gone-flag">[excerpt not found at source]'
                       '</span>') == 4  # troops.2024 three times, invasion.start once
    # the fact cards say it plainly, with the date: one card per fact on the page
    card = re.search(r'<div class="hb-card" id="hb-card-fact-troops-2024".*?</div>', index,
                     re.S)
    assert card and ('<p class="hb-excerpt-gone">This excerpt was no longer found at the '
                     "source on 21 November 2026: the page may have changed since it was "
                     "cited.</p>") in card.group(0)
    assert index.count('class="hb-excerpt-gone"') == 2
    register = (after.outdir / "register.html").read_text("utf-8")
    assert register.count("Excerpt no longer found at the source on 21 November 2026.") == 2

    # back on the page: the marks go
    fault_server.overrides.clear()
    sourcecheck(project, "2026-11-22")
    again = build(project, freshenv=False)
    assert "excerpt not found" not in (again.outdir / "index.html").read_text("utf-8")
    assert "hb-excerpt-gone" not in (again.outdir / "index.html").read_text("utf-8")


def test_dead_source_falls_back_to_its_archived_copy(
        tmp_path: Path, build, fault_server: FaultServer, second_server: FaultServer) -> None:
    """Two runs on two days find the source gone -> the next build (incremental, offline)
    cites the archived copy; without one, the build names the entry."""
    base = f"http://127.0.0.1:{fault_server.port}"
    project = tmp_path / "p"
    shutil.copytree(ROOTS / "test-clean", project)
    bib = project / "_data" / "sources.bib"
    bib.write_text(
        BIB_ENTRY.format(key="agency2024troops", url=f"{base}/missing",
                         extra=f",\n  archiveurl   = {{{base}/ok}}")
        + BIB_ENTRY.format(key="agency2024live", url=f"http://127.0.0.1:{second_server.port}"
                           "/ok#present", extra=""), encoding="utf-8")
    before = build(project)
    assert before.warnings == ""

    assert sourcecheck(project, "2026-11-19")[0] == 1
    suspect = build(project, freshenv=False)
    assert suspect.warnings == ""  # suspect: nothing changes for readers yet
    assert "Archived copy" not in (suspect.outdir / "sources.html").read_text("utf-8")

    assert sourcecheck(project, "2026-11-20")[0] == 1
    rec = status_records(project)["agency2024troops"]
    assert (rec["status"], str(rec["first_seen"]), str(rec["checked"])) == (
        "dead", "2026-11-19", "2026-11-20")
    after = build(project, freshenv=False)  # only the status file changed
    assert after.warnings == ""
    page = (after.outdir / "sources.html").read_text(encoding="utf-8")
    entry = re.search(r"Page agency2024troops.*?</div>", page, re.S)
    assert entry, "the dead source is not in the bibliography"
    text = re.sub(r"<[^>]+>", "", entry.group(0))
    assert (f"URL: {base}/missing (visited on 2026-01-01; link reported dead on "
            f"20 November 2026). Archived copy: {base}/ok.") in " ".join(text.split())
    assert f'href="{base}/missing"' in entry.group(0)  # kept, so the next check sees it
    live = re.search(r"Page agency2024live.*?</div>", page, re.S)
    assert live and "Archived copy" not in live.group(0) and "dead" not in live.group(0)

    # a dead source without an archived copy: one warning at its .bib entry
    bib.write_text(re.sub(r",\n  archiveurl .*\n", "\n", bib.read_text(encoding="utf-8")),
                   encoding="utf-8")
    missing = build(project, freshenv=False)
    assert missing.messages() == [
        "_data/sources.bib:1: source 'agency2024troops': its url was reported dead on "
        "2026-11-20 (_data/link-status.yaml:8): add an 'archiveurl' field with the address "
        "of an archived copy of the same page, or replace the url (dead-link)"]
    assert main(["check", str(project)]) == 1


def test_bad_status_file_is_never_overwritten(tmp_path: Path) -> None:
    project = sources_project(tmp_path / "p", {"a": "http://127.0.0.1:9/a"})
    status = project / "_data" / "link-status.yaml"
    status.write_text("- url: x\n", encoding="utf-8")
    code, out = sourcecheck(project, "2026-11-20")
    assert code == 2 and "missing required field 'status'" in out
    assert status.read_text("utf-8") == "- url: x\n"
    assert sourcecheck(project, "yesterday")[0] == 2


def test_which_redirects_mean_the_page_is_gone() -> None:
    from handbook_tools.webpages import unrelated_redirect

    page = "https://news.example/world/2024/story"
    assert unrelated_redirect(page, "https://news.example/")
    assert unrelated_redirect(page, "https://news.example/en/")
    assert unrelated_redirect(page, "https://news.example/index.html")
    assert unrelated_redirect(page, "https://news.example/errors/404.html")
    assert unrelated_redirect(page, "https://news.example/page-not-found")
    assert not unrelated_redirect(page, "https://www.news.example/world/2024/story/")
    assert not unrelated_redirect(page, "https://news.example/world/error-corrections")
    assert not unrelated_redirect("https://news.example/", "https://news.example/en/")
