"""``make linkcheck``: is every source still there, and does it still say what we quote?

For each source URL of the ``.bib`` files this fetches the page once (GET, a User-Agent,
bounded timeouts and retries, a few workers, one request at a time per host, 429
``Retry-After`` respected) and sorts the answer into one of three results:

``live``
    a 2xx answer, directly or through a redirect to a related page;
``definite``
    404 or 410, or a redirect to an unrelated page (the site's home page or a "not found"
    page): the page is gone;
``unreachable``
    no definite answer: the name did not resolve, the connection was refused or reset,
    the request timed out, the server failed (5xx), refused the check (401, 403, 451 and
    other 4xx) or kept rate-limiting (429).  Never a dead link.

The link status file (``link-status.yaml``) then moves each URL on (see :func:`advance`):
a first definite failure makes it ``suspect`` (with ``first_seen``); a definite failure
on a later *day* makes it ``dead``, and only ``dead`` changes a build (the bibliography
cites the archived copy); an answer that works makes it ``live`` again.  An unreachable
answer never turns a suspect or dead URL back, nor forward.

On a live answer the page's text (HTML without markup, scripts and styles; a PDF's text
through pypdf) is searched for the excerpt of every fact citing the source, compared after
normalising case, whitespace, typographic quotes and dashes (:func:`normalise`).

When most hosts cannot be reached at all (no DNS, no route: an offline machine), the run
writes nothing and says the network looks down (exit 3).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import io
import json
import os
import re
import sys
import threading
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .problems import Problem
from .registry import LINK_FIELDS, LinkStatus, Registry, load_link_status
from .settings import TODAY_ENV

USER_AGENT = ("iraq-handbook-linkcheck/1.0 (+checks that the sources the handbook cites "
              "still exist and still say what it quotes)")
#: the most of a page read: enough for any article or report the book cites
MAX_BYTES = 30 * 1024 * 1024

# ---------------------------------------------------------------------------- text


class _TextParser(HTMLParser):
    """The text of an HTML page: no tags, scripts, styles or comments; block elements
    separate words, inline ones (``<b>``, ``<a>``) do not."""

    SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    BLOCK = {"p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "section",
             "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre",
             "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "dl", "figure", "figcaption",
             "hr", "title", "body", "form", "option"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
})


def normalise(text: str) -> str:
    """Text as compared: entities unescaped, compatibility forms folded (NFKC: no-break
    spaces, ligatures, the ellipsis), dashes made plain, quotation marks and apostrophes
    (straight or typographic) and soft hyphens dropped, whitespace collapsed, case
    folded."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).translate(_TYPOGRAPHY)
    text = re.sub(r"\s*-\s*", "-", text)  # "2003 - 2011" and "2003-2011" alike
    text = re.sub(r"['\"]", "", text)  # quoted or not, straight or curly: alike
    return " ".join(text.split()).casefold()


def excerpt_found(excerpt: str, text: str) -> bool:
    """Whether the excerpt is in the (normalised) text; an elision (``...``) in the
    excerpt lets its parts stand apart, in order."""
    parts = [p for p in (x.strip() for x in normalise(excerpt).split("...")) if p]
    pos = 0
    for part in parts:
        pos = text.find(part, pos)
        if pos < 0:
            return False
        pos += len(part)
    return True


# ---------------------------------------------------------------------------- fetch


@dataclass
class Settings:
    timeout: float = 20.0  #: seconds to connect, and between bytes of the answer
    retries: int = 2  #: further tries after a connection failure, timeout or 5xx
    backoff: float = 2.0  #: seconds before the first retry (doubled each time)
    max_retry_after: float = 120.0  #: the longest 429 Retry-After waited for
    workers: int = 4


@dataclass
class Fetched:
    """One URL's answer."""

    url: str
    result: str  #: live | definite | unreachable
    info: str
    code: int = 0
    final_url: str = ""
    reached: bool = True  #: the host answered at all (any HTTP status)
    text: str | None = None  #: the page's text (live answers only; None: not text)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_HOME = re.compile(r"(/(index|default|home)(\.\w+)?|/[a-z]{2}(-[a-z]{2})?)?", re.I)
_NOT_FOUND = re.compile(r"(^|/)(404|not-?found|page-?not-?found|error|gone)(\.\w+)?(/|$)",
                        re.I)
#: a redirect to a sign-in, subscription or consent page: the site hides the page from a
#: robot, which says nothing about the page (unreachable, excerpts unknown)
_WALL = re.compile(r"(^|[/.])(log-?in|sign-?in|subscribe|subscription|consent|account|auth|"
                   r"paywall|captcha|challenge)([/._?=-]|$)", re.I)


def unrelated_redirect(original: str, final: str) -> bool:
    """A redirect that means the page is gone: to the site's home page (from a deeper
    page), or to a "not found" page."""
    opath = urlsplit(original).path.rstrip("/")
    fpath = urlsplit(final).path.rstrip("/")
    if not opath or _HOME.fullmatch(opath):
        return False  # the source is a home page itself
    return bool(_HOME.fullmatch(fpath) or _NOT_FOUND.search(fpath))


def _page_text(data: bytes, content_type: str, url: str) -> str | None:
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/pdf" or data.startswith(b"%PDF-") or (
            url.lower().endswith(".pdf") and ctype in ("", "application/octet-stream")):
        try:
            return pdf_text(data)
        except Exception:  # a damaged or encrypted PDF: excerpts stay unknown
            return None
    if ctype and not (ctype.startswith("text/") or "xml" in ctype or "html" in ctype):
        return None
    m = re.search(r"charset=([\w-]+)", content_type, re.I)
    charset = m.group(1) if m else "utf-8"
    try:
        markup = data.decode(charset, errors="replace")
    except LookupError:
        markup = data.decode("utf-8", errors="replace")
    return html_text(markup) if ctype != "text/plain" else markup


def fetch(url: str, settings: Settings, session: Any = None,
          sleep: Callable[[float], None] = time.sleep) -> Fetched:
    """GET one URL and classify the answer (see the module's docstring)."""
    import requests

    http = session or requests
    tries = rate_limited = 0
    while True:
        tries += 1
        try:
            resp = http.get(url, timeout=settings.timeout, allow_redirects=True, stream=True,
                            headers={"User-Agent": USER_AGENT,
                                     "Accept": "text/html,application/xhtml+xml,"
                                               "application/pdf;q=0.9,*/*;q=0.8"})
            try:
                code = resp.status_code
                final = resp.url
                if code == 429:
                    wait = _retry_after(resp.headers.get("Retry-After"))
                    rate_limited += 1
                    if rate_limited <= settings.retries + 1 and wait is not None \
                            and wait <= settings.max_retry_after:
                        tries -= 1  # waiting as asked is not a failed try
                        sleep(wait)
                        continue
                    return Fetched(url, "unreachable", "429 Too Many Requests: still "
                                   "rate-limited", code, final)
                if code >= 500:
                    if tries <= settings.retries:
                        sleep(settings.backoff * 2 ** (tries - 1))
                        continue
                    return Fetched(url, "unreachable", f"{code} {resp.reason}: server error",
                                   code, final)
                if code in (404, 410):
                    return Fetched(url, "definite", f"{code} {resp.reason}", code, final)
                if code >= 400:
                    return Fetched(url, "unreachable", f"{code} {resp.reason}: the site "
                                   "refused the check", code, final)
                if resp.history and _WALL.search(urlsplit(final).netloc + urlsplit(final).path):
                    return Fetched(url, "unreachable", f"redirected to a sign-in or consent "
                                   f"page: {final}", resp.history[0].status_code, final)
                if resp.history and unrelated_redirect(url, final):
                    return Fetched(url, "definite", f"redirected to an unrelated page: {final}",
                                   resp.history[0].status_code, final)
                data = bytearray()
                for chunk in resp.iter_content(64 * 1024):
                    data += chunk
                    if len(data) >= MAX_BYTES:
                        break
                text = _page_text(bytes(data), resp.headers.get("Content-Type", ""), final)
                info = f"redirected to {final}" if resp.history else ""
                return Fetched(url, "live", info, code, final, text=text)
            finally:
                resp.close()
        except requests.TooManyRedirects:
            return Fetched(url, "unreachable", "redirect loop", 0, "")
        except (requests.ConnectionError, requests.Timeout) as exc:
            reason = _reason(exc)
            # a name that does not resolve, or a port that refuses, answers the same at
            # once: only timeouts and resets are tried again
            if tries <= settings.retries and reason not in QUICK_FAILURES:
                sleep(settings.backoff * 2 ** (tries - 1))
                continue
            return Fetched(url, "unreachable", reason, 0, "", reached=False)
        except requests.RequestException as exc:
            return Fetched(url, "unreachable", f"{type(exc).__name__}: {exc}", 0, "")


#: connection failures that a retry would not change
QUICK_FAILURES = ("the name did not resolve", "connection refused")

#: the first hosts of a run that, all unreachable, stop it: the network looks down
EARLY_HOSTS = 10


def _reason(exc: Exception) -> str:
    text = str(exc)
    for pattern, what in (
            (r"Name or service not known|nodename nor servname|getaddrinfo failed|"
             r"Temporary failure in name resolution|NameResolutionError|No address",
             "the name did not resolve"),
            (r"Connection refused", "connection refused"),
            (r"timed out|Timeout", "timed out"),
            (r"Connection reset|RemoteDisconnected|aborted", "connection reset"),
            (r"SSL|certificate", "TLS failure")):
        if re.search(pattern, text, re.I):
            return what
    return type(exc).__name__


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def fetch_all(urls: Iterable[str], settings: Settings,
              on_done: Callable[[Fetched], None] | None = None) -> dict[str, Fetched]:
    """Fetch every URL, one host at a time per worker; once a host cannot be reached at
    all, its other URLs are not tried.  The run stops early once most hosts, or each of
    the first :data:`EARLY_HOSTS`, could not be reached: the rest are not tried."""
    import requests

    groups: dict[str, list[str]] = defaultdict(list)
    for url in sorted(set(urls)):
        groups[host_of(url)].append(url)
    results: dict[str, Fetched] = {}
    lock = threading.Lock()
    stop = threading.Event()
    tally = {"done": 0, "unreached": 0, "reached": 0}

    def run(host_urls: list[str]) -> None:
        reached, misses = False, 0
        with requests.Session() as session:
            down: Fetched | None = None
            for url in host_urls:
                if stop.is_set():
                    got = Fetched(url, "unreachable", "not tried: the network looks down",
                                  reached=False)
                elif down is not None:
                    got = Fetched(url, "unreachable", down.info, reached=False)
                else:
                    got = fetch(url, settings, session)
                    misses = 0 if got.reached else misses + 1
                    # a host that answered nothing yet and fails at once (no such name,
                    # refused) or twice in a row is down: its other URLs are not tried
                    if not reached and (got.info in QUICK_FAILURES or misses >= 2):
                        down = got
                    reached = reached or got.reached
                with lock:
                    results[url] = got
                if on_done:
                    on_done(got)
        with lock:
            tally["done"] += 1
            tally["reached" if reached else "unreached"] += 1
            if tally["unreached"] * 2 > len(groups) or (
                    tally["reached"] == 0 and tally["unreached"] >= EARLY_HOSTS):
                stop.set()

    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        for future in [pool.submit(run, group) for _, group in sorted(groups.items())]:
            future.result()
    return results


def network_down(results: dict[str, Fetched]) -> tuple[int, int]:
    """(hosts that could not be reached at all, hosts tried)."""
    reached: dict[str, bool] = {}
    for url, got in results.items():
        host = host_of(url)
        reached[host] = reached.get(host, False) or got.reached
    return sum(1 for ok in reached.values() if not ok), len(reached)


# ---------------------------------------------------------------------------- status


def advance(old: LinkStatus | None, got: Fetched, today: dt.date, source: str,
            excerpts: dict[str, str] | None) -> dict[str, Any] | None:
    """The new record of one URL from its old record and this run's answer (None: no
    record). ``excerpts``: fact id -> found/missing, when this run could look."""
    rec: dict[str, Any] = {"url": got.url, "source": source}
    prev_excerpts = dict(old.excerpts) if old else {}
    prev_day = old.excerpts_checked if old else None
    if excerpts is not None:
        prev_excerpts, prev_day = excerpts, today
    if got.result == "live":
        if not prev_excerpts:
            return None  # works, and no excerpt to record: no record
        rec.update(status="live", checked=today)
    elif got.result == "unreachable":
        if old is not None and old.status in ("suspect", "dead"):
            rec.update(status=old.status, first_seen=old.first_seen, checked=old.checked,
                       info=old.info)  # no answer: neither confirmed nor cleared
        else:
            first = old.first_seen if old is not None and old.status == "unreachable" \
                else today
            rec.update(status="unreachable", first_seen=first or today, checked=today,
                       info=got.info)
    else:  # definite
        if old is not None and old.status in ("suspect", "dead") and old.first_seen:
            confirmed = old.status == "dead" or old.first_seen < today
            rec.update(status="dead" if confirmed else "suspect", first_seen=old.first_seen,
                       checked=today, info=got.info)
        else:
            rec.update(status="suspect", first_seen=today, checked=today, info=got.info)
    if prev_excerpts:
        rec["excerpts_checked"] = prev_day
        rec["excerpts"] = dict(sorted(prev_excerpts.items()))
    return {k: rec[k] for k in LINK_FIELDS if rec.get(k) not in (None, "")}


STATUS_HEADER = """\
# What `make linkcheck` last found at each source URL: written by
# `python -m handbook_tools linkcheck docs --write ...`; commit it, so every build stays
# offline and gives the same result. status: live | unreachable (no definite answer: never
# a dead link) | suspect (404, 410 or a redirect to an unrelated page, first seen on
# first_seen) | dead (confirmed by a later run on another day: the bibliography then cites
# the source's archiveurl, and a dead source without one fails the build). excerpts: for
# each fact citing the source, whether its excerpt was on the page on excerpts_checked.
"""


class _PlainDumper(yaml.SafeDumper):
    """Plain YAML: never an anchor or alias (``&id001``), lists indented under their key."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_status(records: list[dict[str, Any]]) -> str:
    records = sorted(records, key=lambda r: str(r["url"]))
    body = yaml.dump(records, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True,
                     width=100, default_flow_style=False) if records else "[]\n"
    return STATUS_HEADER + body


def check_date(option: str | None) -> dt.date:
    """The date of a run: ``--date``, else ``HANDBOOK_TODAY``, else today (UTC). Not
    ``SOURCE_DATE_EPOCH``: that is the last commit's date, not the day of the check."""
    for raw in (option, os.environ.get(TODAY_ENV)):
        if raw:
            return dt.date.fromisoformat(raw.strip())
    return dt.datetime.now(dt.UTC).date()


# ---------------------------------------------------------------------------- the run


@dataclass
class Run:
    records: list[dict[str, Any]]
    report: list[dict[str, Any]] = field(default_factory=list)
    down: tuple[int, int] = (0, 0)


def check_sources(reg: Registry, old: dict[str, LinkStatus], today: dt.date,
                  settings: Settings, progress: Callable[[Fetched], None] | None = None
                  ) -> Run:
    keys: dict[str, str] = {}  # url -> the first source key citing it
    for src in sorted(reg.sources.values(), key=lambda s: s.key):
        if src.url:
            keys.setdefault(src.url, src.key)
    facts_of: dict[str, list[tuple[str, str]]] = defaultdict(list)  # key -> (id, excerpt)
    for fact in sorted(reg.facts.values(), key=lambda f: f.id):
        for key in fact.sources:
            facts_of[key].append((fact.id, fact.excerpt))
    results = fetch_all(keys, settings, progress)
    run = Run([], down=network_down(results))
    for url in sorted(keys):
        got, key = results[url], keys[url]
        excerpts: dict[str, str] | None = None
        if got.result == "live" and got.text is not None:
            page = normalise(got.text)
            excerpts = {fid: "found" if excerpt_found(text, page) else "missing"
                        for fid, text in facts_of[key]}
        rec = advance(old.get(url), got, today, key, excerpts)
        if rec is not None:
            run.records.append(rec)
        row = {k: v for k, v in asdict(got).items() if k not in ("text",)}
        row.update(source=key, status=rec["status"] if rec else "",
                   excerpts=excerpts or {})
        run.report.append(row)
    return run  # a URL no source cites any more leaves the file


#: Settings field -> the conf.py value that gives its default (Sphinx's own linkcheck names)
CONF_SETTINGS = {"timeout": "linkcheck_timeout", "retries": "linkcheck_retries",
                 "workers": "linkcheck_workers",
                 "max_retry_after": "linkcheck_rate_limit_timeout"}


def settings_from(conf: dict[str, Any], args: Any) -> Settings:
    """Command-line options, else the ``linkcheck_*`` values of conf.py, else defaults."""
    settings = Settings()
    for name in ("timeout", "retries", "workers", "backoff", "max_retry_after"):
        value = getattr(args, name, None)
        if value is None and name in CONF_SETTINGS:
            value = conf.get(CONF_SETTINGS[name])
        if isinstance(value, int | float) and not isinstance(value, bool):
            setattr(settings, name, type(getattr(settings, name))(value))
    return settings


def cmd_linkcheck(args: Any) -> int:
    from .cli import _conf
    from .registry import LINK_STATUS, load_registry

    docs = Path(args.docs)
    try:
        today = check_date(args.date)
        conf = _conf(docs)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    data = docs / str(conf.get("handbook_data_dir", "_data"))
    bibs = [docs / str(b) for b in conf.get("bibtex_bibfiles", [])]  # type: ignore[attr-defined]
    target = Path(args.write) if args.write else data / LINK_STATUS
    old: dict[str, LinkStatus] = {}
    if target.is_file():
        problems: list[Problem] = []
        old = load_link_status(target, str(target), problems)
        if problems:
            for prob in problems:
                print(prob, file=sys.stderr)
            print(f"error: {target} has errors: fix them first", file=sys.stderr)
            return 2
    reg = load_registry(data, bibs)
    settings = settings_from(conf, args)
    run = check_sources(reg, old, today, settings)
    if args.report:
        report = Path(args.report)
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(run.report, indent=2, sort_keys=True) + "\n",
                          encoding="utf-8")
    unreached, hosts = run.down
    if hosts and unreached * 2 > hosts:
        print(f"network looks down: {unreached} of {hosts} hosts could not be reached (the "
              "names did not resolve, or the connections were refused or timed out).\n"
              f"Nothing was written to {target}: no link was found dead. Run `make "
              "linkcheck` again with internet access.", file=sys.stderr)
        return 3
    counts: dict[str, int] = defaultdict(int)
    for row in run.report:
        counts[row["status"]] += 1
    missing = [(row["source"], fid) for row in run.report
               for fid, state in row["excerpts"].items() if state == "missing"]
    found = sum(1 for row in run.report for s in row["excerpts"].values() if s == "found")
    print(f"linkcheck {today}: {len(run.report)} source URLs: "
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
          + f"; excerpts: {found} found, {len(missing)} missing")
    for row in run.report:
        if row["status"] != "live":
            print(f"{row['status']}: {row['source']}: {row['url']} ({row['info']})")
    for key, fid in missing:
        print(f"excerpt missing: fact {fid!r} at {key}")
    if args.write:
        target.write_text(dump_status(run.records), encoding="utf-8")
        print(f"link status: {target}")
    problem = missing or any(row["status"] in ("suspect", "dead") for row in run.report)
    return 1 if problem else 0
