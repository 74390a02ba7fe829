"""Skeletons for a new source and a new fact: ``new-source`` and ``new-fact``.

``new-source URL [--title T] [--date YYYY-MM-DD] [--docs DOCS]``
    Append a BibTeX entry to the first ``.bib`` file of DOCS (``bibtex_bibfiles``), with
    the title's special characters escaped for BibTeX and LaTeX (:func:`bib_escape`): its key
    is the publisher's id and the date of publication (``--date``, else today), with a
    letter added when the key is taken; ``urldate`` is today (``HANDBOOK_TODAY`` when set);
    ``howpublished`` is the publisher's name from the register.  Exit 0; 1 when the host is
    not in the register (the entry is written all the same, and a ready-to-paste
    ``publishers.yaml`` record is printed: add it, choose its standing); 2 when nothing was
    written (the URL is already a source: its key is printed; bad arguments).
``new-fact ID --source KEY [--file NAME] [--docs DOCS]``
    Append a fact to ``_data/facts/NAME.yaml``; without ``--file`` the file whose ids share
    the new id's first part (``e.`` -> events.yaml).  ``as_of`` is today, ``review_by``
    today plus six months; ``value`` and ``excerpt`` are placeholders starting with
    ``TODO`` that the data check reports until they are filled.  Exit 0, or 2 (an id that
    exists, an unknown source key, no file for the prefix).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .settings import TODAY_ENV

if TYPE_CHECKING:
    from .publishers import Publishers
    from .registry import Registry

#: the start of a placeholder the data check reports (see bibfile.PLACEHOLDER)
TODO = "TODO"
#: months after today of a new fact's review date
REVIEW_MONTHS = 6
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def today() -> dt.date:
    raw = os.environ.get(TODAY_ENV)
    return dt.date.fromisoformat(raw.strip()) if raw else dt.date.today()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    import calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def _paths(docs: Path) -> tuple[Path, list[Path]]:
    from .cli import _conf

    conf = _conf(docs)
    data_dir = docs / str(conf.get("handbook_data_dir", "_data"))
    bibs = [docs / str(b) for b in conf.get("bibtex_bibfiles", [])]  # type: ignore[attr-defined]
    return data_dir, bibs


#: what the commands work on: today, the registry, the publisher register, the data folder
#: and the .bib files
Project = tuple[dt.date, "Registry", "Publishers | None", Path, list[Path]]


def _project(docs: Path) -> Project | None:
    """The project of DOCS, loaded; None, once the error is printed, when its conf.py is
    missing or a setting (such as HANDBOOK_TODAY) is bad."""
    from .publishers import load_all

    try:
        now = today()
        data_dir, bibs = _paths(docs)
        reg, pubs = load_all(data_dir, bibs)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return now, reg, pubs, data_dir, bibs


#: how BibTeX text writes each character that LaTeX or BibTeX would read as markup: a
#: brace, even escaped as "\{", still counts for BibTeX's brace matching, so it is spelled
#: out; the registry reads every form back (bibfile.bib_text)
BIB_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
               "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
               "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def bib_escape(text: str) -> str:
    """Plain text (a headline) as the text of a BibTeX field, on one line."""
    return "".join(BIB_ESCAPES.get(ch, ch) for ch in " ".join(text.split()))


def _host_label(host: str) -> str:
    """'www.example.co.uk' -> 'example': a publisher id for an unregistered host."""
    parts = [p for p in host.split(".") if p and p != "www"]
    if len(parts) >= 3 and len(parts[-1]) == 2 and parts[-2] in ("co", "com", "org", "gov"):
        parts = parts[:-2]
    elif len(parts) >= 2:
        parts = parts[:-1]
    return parts[-1] if parts else "source"


def cmd_new_source(args: argparse.Namespace) -> int:
    from .publishers import host_of

    docs = Path(args.docs)
    url = args.url.strip()
    host = host_of(url)
    if not re.match(r"https?://", url) or not host:
        print(f"error: {url!r} is not an http(s) address", file=sys.stderr)
        return 2
    try:
        published = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    project = _project(docs)
    if project is None:
        return 2
    now, reg, pubs, data_dir, bibs = project
    if not bibs:
        print(f"error: {docs}/conf.py names no bibtex_bibfiles", file=sys.stderr)
        return 2
    for src in reg.sources.values():
        if src.url.rstrip("/") == url.rstrip("/"):
            print(f"error: {url} is already a source: {src.key} ({src.path}:{src.line})",
                  file=sys.stderr)
            return 2
    pub = pubs.for_host(host) if pubs is not None else None
    pid = pub.id if pub is not None else _host_label(host)
    day = published or now
    base = re.sub(r"[^a-z0-9]", "", pid.lower()) + day.strftime("%Y%m%d")
    key, n = base, 0
    while key in reg.sources:
        key = base + "abcdefghijklmnopqrstuvwxyz"[n]
        n += 1
    name = pub.name if pub is not None else TODO + ": the publisher's name"
    lines = [f"@misc{{{key},",
             f"  title        = {{{bib_escape(args.title or '') or TODO + ': the headline'}}},",
             f"  howpublished = {{{name}}},"]
    if published:
        lines += [f"  year         = {{{published.year}}},",
                  f"  month        = {MONTHS[published.month - 1]},",
                  f"  day          = {{{published.day}}},"]
    else:
        lines.append(f"  year         = {{{TODO}: the year of publication}},")
    lines += [f"  url          = {{{url}}},", f"  urldate      = {{{now.isoformat()}}}", "}"]
    bib = bibs[0]
    _append(bib, "\n".join(lines) + "\n")
    print(f"added source {key} to {bib}")
    if pub is not None:
        print(f"publisher: {pub.name} ({pub.id}), standing: {pub.standing}")
        if not args.title or not published:
            print(f"fill in the {TODO} fields of {key} before `make check`")
        return 0
    print(f"\n{host} is not in the publisher register ({data_dir / 'publishers.yaml'}).\n"
          "Add a record for it (choose its standing: official, major, established, weak or "
          "deprecated; see docs/reference/method.md), then set howpublished in the entry:\n")
    domain = host.removeprefix("www.")
    print(f"- id: {pid}\n  name: {TODO}\n  standing: {TODO}\n  domains: [{domain}]\n"
          f"  reason: \"{TODO}: why this standing\"")
    return 1


def _append(path: Path, block: str) -> None:
    """Add ``block`` at the end of ``path``, one blank line after what is there."""
    text = path.read_text(encoding="utf-8").rstrip("\n") if path.is_file() else ""
    path.write_text((text + "\n\n" if text else "") + block, encoding="utf-8")


def _prefix(fid: str) -> str:
    return fid.split(".", 1)[0]


def cmd_new_fact(args: argparse.Namespace) -> int:
    import yaml

    from .registry import FACT_ID, fact_files

    docs = Path(args.docs)
    fid = args.id
    if not FACT_ID.match(fid):
        print(f"error: bad fact id {fid!r}: use lowercase letters, digits, '.', '_' and '-'",
              file=sys.stderr)
        return 2
    project = _project(docs)
    if project is None:
        return 2
    now, reg, _, data_dir, _ = project
    if fid in reg.facts:
        fact = reg.facts[fid]
        print(f"error: fact {fid!r} exists ({fact.path}:{fact.line})", file=sys.stderr)
        return 2
    if args.source not in reg.sources:
        print(f"error: unknown source key {args.source!r}: add it first (new-source)",
              file=sys.stderr)
        return 2
    files = fact_files(data_dir)
    if args.file:
        target = data_dir / "facts" / f"{args.file.removesuffix('.yaml')}.yaml"
    else:
        owners = sorted({Path(f.path).name for f in reg.facts.values()
                         if _prefix(f.id) == _prefix(fid) and "." in f.id})
        if len(owners) != 1 or "." not in fid:
            names = ", ".join(p.stem for p in files)
            why = (f"facts starting {_prefix(fid)}. are in {', '.join(owners)}" if owners
                   else f"no file holds facts starting {_prefix(fid)}.")
            print(f"error: {why}: name the file with --file (one of: {names})",
                  file=sys.stderr)
            return 2
        target = next(p for p in files if p.name == owners[0])
    review = add_months(now, REVIEW_MONTHS)
    record = [{"id": fid, "kind": "figure", "value": f"{TODO}: the value readers see",
               "as_of": now, "review_by": review, "sources": [args.source],
               "excerpt": f"{TODO}: the source's words, verbatim, that support the value"}]
    body = yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=88,
                          default_flow_style=None)
    target.parent.mkdir(parents=True, exist_ok=True)
    _append(target, body)
    print(f"added fact {fid} to {target}: fill in value and excerpt (set kind, as_of "
          f"and review_by, {review.isoformat()} by default: today + {REVIEW_MONTHS} months, "
          "or 'never' for settled history), then cite it on a page: {fact}`" + fid + "`")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new-source", help="append a source skeleton to the .bib file")
    p.add_argument("url")
    p.add_argument("--title", help="the headline")
    p.add_argument("--date", help="the date of publication, YYYY-MM-DD")
    p.add_argument("--docs", default="docs")
    p.set_defaults(func=cmd_new_source)
    p = sub.add_parser("new-fact", help="append a fact skeleton to a data file")
    p.add_argument("id")
    p.add_argument("--source", required=True, help="the key of its source in the .bib file")
    p.add_argument("--file", help="the data file, such as events (default: the file whose "
                   "ids share the id's first part)")
    p.add_argument("--docs", default="docs")
    p.set_defaults(func=cmd_new_fact)
