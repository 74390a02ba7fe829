"""Fetching source pages for ``make linkcheck`` and finding excerpts in their text.

:func:`fetch_all` asks for every URL once (GET, a User-Agent, bounded timeouts and
retries, a few workers, one request at a time per host, 429 ``Retry-After`` respected) and
sorts each answer into ``live``, ``definite`` or ``unreachable`` (see
:mod:`handbook_tools.sourcecheck`); :func:`excerpt_found` compares an excerpt with a page's
text after :func:`normalise`.
"""

from __future__ import annotations

import email.utils
import html
import io
import re
import threading
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

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
