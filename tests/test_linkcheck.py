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
import os
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
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
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
            if path == "/ok":
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


def run_linkcheck(srcdir: Path) -> LinkcheckRun:
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    nocolor()
    outdir = srcdir / "_build" / "linkcheck"
    status, warning = io.StringIO(), io.StringIO()
    # the linkcheck builder sets a process-wide default socket timeout; put it back after
    old_timeout = socket.getdefaulttimeout()
    old_cwd = Path.cwd()
    os.chdir(srcdir)
    try:
        with patch_docutils(srcdir), docutils_namespace():
            app = Sphinx(str(srcdir), str(srcdir), str(outdir),
                         str(srcdir / "_build" / "doctrees"), "linkcheck",
                         status=status, warning=warning, freshenv=True)
            app.build()
            statuscode = app.statuscode
    finally:
        os.chdir(old_cwd)
        socket.setdefaulttimeout(old_timeout)
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


def test_linkcheck_reports_each_fault_exactly(tmp_path: Path, fault_server: FaultServer) -> None:
    port = fault_server.port
    src = make_project(tmp_path / "p", port)
    run = run_linkcheck(src)
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


def test_clean_page_is_all_working(tmp_path: Path, fault_server: FaultServer) -> None:
    port = fault_server.port
    src = make_project(tmp_path / "p", port,
                       index="# Clean\n\nSee [ok](http://127.0.0.1:PORT/ok).\n")
    run = run_linkcheck(src)
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


# --------------------------------------------------------------------------- dead sources

DEAD_BIB = """@misc{agency2024troops,
  author       = {{News Agency}},
  title        = {Troops stay in the country},
  howpublished = {News Agency},
  year         = {2024},
  url          = {http://127.0.0.1:PORT/missing},
  urldate      = {2026-01-01},
  archiveurl   = {http://127.0.0.1:PORT/ok}
}

@misc{agency2024live,
  author       = {{News Agency}},
  title        = {A page that works},
  howpublished = {News Agency},
  year         = {2024},
  url          = {http://127.0.0.1:PORT/ok#present},
  urldate      = {2026-01-01}
}
"""
DEAD_WARNING = (
    "_data/sources.bib:1: source 'agency2024troops': its url was reported dead on 2026-11-20 "
    "(_data/link-status.yaml:5): add an 'archiveurl' field with the address of an archived "
    "copy of the same page, or replace the url (dead-link)")


def write_status(output_json: Path, project: Path, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["linkreport", str(output_json), "--write",
                     str(project / "_data" / "link-status.yaml"), "--docs", str(project),
                     *extra])
    return code, out.getvalue()


def test_dead_source_falls_back_to_its_archived_copy(
        tmp_path: Path, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """linkcheck finds the source dead -> linkreport --write records it -> the next build
    (incremental, offline) cites the archived copy; without one, the build names the entry."""
    import yaml

    from conftest import build_project
    from handbook_tools.cli import parse_warnings

    port = fault_server.port
    base = f"http://127.0.0.1:{port}"
    project = tmp_path / "p"
    shutil.copytree(ROOTS / "test-clean", project)
    bib = project / "_data" / "sources.bib"
    bib.write_text(DEAD_BIB.replace("PORT", str(port)), encoding="utf-8")
    status_file = project / "_data" / "link-status.yaml"

    before = build_project(project, "html")
    assert before.warnings == ""
    assert "Archived copy" not in (before.outdir / "sources.html").read_text(encoding="utf-8")

    run = run_linkcheck(project)
    assert {r["uri"]: r["status"] for r in run.rows if str(r["uri"]).startswith("http")} == {
        f"{base}/missing": "broken", f"{base}/ok#present": "working"}
    code, out = write_status(run.outdir / "output.json", project, "--date", "2026-11-20")
    assert code == 1  # a broken link is still a failed link check
    assert f"link status: 1 dead source URL(s) recorded in {status_file}" in out
    records = yaml.safe_load(status_file.read_text(encoding="utf-8"))
    assert len(records) == 1
    assert records[0]["source"] == "agency2024troops"
    assert records[0]["url"] == f"{base}/missing"
    assert str(records[0]["checked"]) == "2026-11-20"
    assert records[0]["info"].startswith("404 Client Error: Not Found")

    after = build_project(project, "html", freshenv=False)  # only the status file changed
    assert after.warnings == ""
    page = (after.outdir / "sources.html").read_text(encoding="utf-8")
    entry = re.search(r"Troops stay in the country.*?</div>", page, re.S)
    assert entry, "the dead source is not in the bibliography"
    text = re.sub(r"<[^>]+>", "", entry.group(0))
    assert (f"URL: {base}/missing (visited on 2026-01-01; link reported dead on "
            f"20 November 2026). Archived copy: {base}/ok.") in " ".join(text.split())
    assert f'href="{base}/ok"' in entry.group(0)
    assert f'href="{base}/missing"' in entry.group(0)  # kept, so the next check sees it
    live = re.search(r"A page that works.*?</div>", page, re.S)
    assert live and "Archived copy" not in live.group(0) and "dead" not in live.group(0)

    # a dead source without an archived copy: one warning at its .bib entry
    bib.write_text(re.sub(r"\n  archiveurl .*\n", "\n", bib.read_text(encoding="utf-8")),
                   encoding="utf-8")
    missing = build_project(project, "html", freshenv=False)
    monkeypatch.chdir(project)
    assert [str(p) for p in parse_warnings(missing.warnings)] == [DEAD_WARNING]
    assert main(["check", "."]) == 1


def test_link_status_keeps_unchecked_and_drops_revived(tmp_path: Path) -> None:
    import yaml

    project = tmp_path / "p"
    shutil.copytree(ROOTS / "test-clean", project)
    bib = project / "_data" / "sources.bib"
    bib.write_text(DEAD_BIB.replace("PORT", "9"), encoding="utf-8")
    output = tmp_path / "output.json"

    def check(rows: list[dict[str, object]], day: str) -> list[dict[str, object]]:
        output.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        write_status(output, project, "--date", day)
        return yaml.safe_load((project / "_data" / "link-status.yaml").read_text("utf-8"))

    dead = {"uri": "http://127.0.0.1:9/missing", "status": "broken", "info": "404",
            "filename": "sources.md", "lineno": 1, "code": 0}
    assert [r["checked"].isoformat() for r in check([dead], "2026-11-20")] == ["2026-11-20"]
    # not checked this time (or timed out): the record and its date stay
    timeout = dict(dead, status="timeout")
    assert [r["checked"].isoformat() for r in check([timeout], "2026-11-21")] == ["2026-11-20"]
    assert [r["checked"].isoformat() for r in check([], "2026-11-22")] == ["2026-11-20"]
    # still broken: the date of the newest check
    assert [r["checked"].isoformat() for r in check([dead], "2026-11-23")] == ["2026-11-23"]
    # working again: the record goes
    assert check([dict(dead, status="working")], "2026-11-24") == []
    # a broken link that is no source's url is not recorded
    other = dict(dead, uri="http://127.0.0.1:9/elsewhere")
    assert check([other], "2026-11-25") == []
    # a bad status file is reported, never overwritten
    (project / "_data" / "link-status.yaml").write_text("- url: x\n", encoding="utf-8")
    code, _ = write_status(output, project)
    assert code == 2
    assert (project / "_data" / "link-status.yaml").read_text("utf-8") == "- url: x\n"
