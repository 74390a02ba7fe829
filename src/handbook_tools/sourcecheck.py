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
import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .linkstatus import LINK_FIELDS, LinkStatus, load_link_status
from .problems import Problem
from .registry import Registry
from .settings import TODAY_ENV
from .webpages import Fetched, Settings, excerpt_found, fetch_all, network_down, normalise

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
    from .linkstatus import LINK_STATUS
    from .registry import load_registry

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
