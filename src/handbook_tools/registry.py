"""The fact registry and the source list: loading, schema validation, freshness.

Facts live in ``<data>/facts/*.yaml`` (a YAML list of records); sources in the BibTeX
files that ``bibtex_bibfiles`` names.  Everything here is pure: it takes paths and
returns values and :class:`~handbook_tools.problems.Problem` lists, so the Sphinx
extension and the CLI share it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .invisible import invisible_problems
from .problems import Check, Problem
from .yamlnodes import Record, fields_ok, load_records, read_text

FACT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
KINDS = ("figure", "date", "name")
#: the start of a value left by ``new-fact`` or ``new-source`` to be filled in
PLACEHOLDER = "TODO"


@dataclass(frozen=True, order=True)
class AsOf:
    """A date known to the day, the month or only the year."""

    year: int
    month: int = 0
    day: int = 0

    @classmethod
    def parse(cls, value: Any) -> AsOf | None:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        if isinstance(value, int) and 1000 <= value <= 9999:
            return cls(value)
        if isinstance(value, str):
            m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", value.strip())
            if m and (not m[2] or 1 <= int(m[2]) <= 12):
                return cls(int(m[1]), int(m[2] or 0))
        return None

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def iso(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
        if self.day:
            parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def long(self) -> str:
        """'27 September 2024', 'September 2024' or '2024'."""
        if not self.month:
            return str(self.year)
        month = calendar.month_name[self.month]
        return f"{self.day} {month} {self.year}" if self.day else f"{month} {self.year}"

    def month_year(self) -> str:
        """The as-of text readers see inline: 'September 2024'."""
        return AsOf(self.year, self.month).long()


@dataclass
class Fact:
    id: str
    value: str
    as_of: AsOf
    review_by: dt.date | None  #: None means settled history: never reviewed
    sources: list[str]
    excerpt: str
    path: str
    line: int
    kind: str = "figure"
    number: float | None = None
    unit: str | None = None
    series: str | None = None
    chronology: str | None = None
    note: str | None = None
    caveat: str | None = None
    disputed: str | None = None
    lines: dict[str, int] = field(default_factory=dict)
    #: the day ``make linkcheck`` found the excerpt gone from every source of the fact
    excerpt_gone: dt.date | None = None

    def is_stale(self, today: dt.date) -> bool:
        return self.review_by is not None and self.review_by < today

    def status(self, today: dt.date) -> str:
        if self.review_by is None:
            return "settled"
        return "review due" if self.is_stale(today) else "current"


@dataclass
class LinkStatus:
    """What ``make linkcheck`` last learned of a source URL (a record of link-status.yaml).

    ``status`` is ``live``, ``unreachable`` (no definite answer: the host could not be
    reached, timed out, refused the check or failed with a 5xx), ``suspect`` (a first
    definite failure: 404, 410 or a redirect to an unrelated page, seen on ``first_seen``)
    or ``dead`` (that failure confirmed by a later run on another day).  Only ``dead``
    changes a build.  ``excerpts`` maps fact ids citing the source to ``found`` or
    ``missing``: whether the fact's excerpt was on the page on ``excerpts_checked``.
    """

    url: str
    checked: dt.date
    info: str
    path: str
    line: int
    status: str = "dead"
    first_seen: dt.date | None = None
    source: str = ""
    excerpts: dict[str, str] = field(default_factory=dict)
    excerpts_checked: dt.date | None = None

    @property
    def checked_text(self) -> str:
        return long_date(self.checked)


def long_date(day: dt.date) -> str:
    """'20 November 2026'."""
    return AsOf(day.year, day.month, day.day).long()


@dataclass
class Source:
    key: str
    path: str
    line: int
    fields: dict[str, str]
    dead: LinkStatus | None = None

    @property
    def url(self) -> str:
        return self.fields.get("url", "")

    @property
    def archiveurl(self) -> str:
        return self.fields.get("archiveurl", "")


@dataclass
class Registry:
    facts: dict[str, Fact] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    #: ids of facts whose record has a data error (already reported at the data file)
    dropped: set[str] = field(default_factory=set)
    #: a facts file could not be read at all: any id may be in it
    unreadable: bool = False
    #: keys of source entries that are malformed (already reported at the .bib file)
    bad_sources: set[str] = field(default_factory=set)

    def has_data_error(self, fact_id: str) -> bool:
        """Whether an id unknown to the registry may be that of a fact left out for a data
        error, which the data file's own message reports."""
        return fact_id in self.dropped or self.unreadable

    def series(self, name: str) -> list[Fact]:
        """Facts of one numeric series, oldest first."""
        points = [f for f in self.facts.values() if f.series == name and f.number is not None]
        return sorted(points, key=lambda f: (f.as_of, f.id))


# --------------------------------------------------------------------------- facts

_TEXT = (str, int, float)
#: field -> (accepted python types, required, what to write)
FACT_FIELDS: dict[str, tuple[tuple[type, ...], bool, str]] = {
    "id": ((str,), True, "a lowercase dotted id such as troops.iraq.2024"),
    "kind": ((str,), False, "one of: " + ", ".join(KINDS)),
    "value": (_TEXT, True, "the text readers see, such as 'about 2,500'"),
    "as_of": ((dt.date, str, int), True, "a date: YYYY-MM-DD, YYYY-MM or YYYY"),
    "review_by": ((dt.date, str), True, "a date YYYY-MM-DD, or 'never' for settled history"),
    "sources": ((list,), True, "a list of source keys from the .bib file, such as [reuters2024x]"),
    "excerpt": ((str,), True, "the words of the source that support the value"),
    "number": ((int, float), False, "a plain number such as 2500"),
    "unit": ((str,), False, "what the number counts"),
    "series": ((str,), False, "the name of a numeric series, such as us-troops-iraq"),
    "chronology": ((str,), False, "a one-line event text for the chronology"),
    "note": ((str,), False, "a note for readers of the register"),
    "caveat": ((str,), False, "a caveat readers see beside the value, such as 'unconfirmed: "
               "one regional outlet'"),
    "disputed": ((str,), False, "the spread when sources disagree, each figure with who "
                 "gives it"),
}


def _type_problem(rec: Record, key: str, value: Any) -> Problem | None:
    types, _, what = FACT_FIELDS[key]
    if isinstance(value, bool) or not isinstance(value, types):
        return Problem(rec.path, rec.line_of(key),
                       f"field {key!r} has the wrong type ({type(value).__name__}): "
                       f"expected {what}", Check.SCHEMA)
    return None


#: a date written in the right shape: YYYY-MM-DD or YYYY-MM
_DATE_SHAPE = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")


def _date_problem(rec: Record, key: str, raw: Any, usage: str) -> Problem:
    """A bad date: one the calendar lacks (2023-02-30), or one in the wrong shape."""
    if isinstance(raw, str) and _DATE_SHAPE.fullmatch(raw.strip()):
        return Problem(rec.path, rec.line_of(key),
                       f"impossible date {raw!r} in {key!r}: the calendar has no such "
                       "month or day", Check.SCHEMA)
    return Problem(rec.path, rec.line_of(key), f"bad date {raw!r} in {key!r}: {usage}",
                   Check.SCHEMA)


def fact_from_record(rec: Record, problems: list[Problem]) -> Fact | None:
    """Validate one record; append its problems; return the fact when usable."""
    bad = False
    for key in rec.values:
        if key not in FACT_FIELDS:
            known = ", ".join(FACT_FIELDS)
            problems.append(Problem(rec.path, rec.line_of(key),
                                    f"unknown field {key!r} (known fields: {known})",
                                    Check.SCHEMA))
            bad = True
    for key, (_, required, what) in FACT_FIELDS.items():
        if key not in rec.values or rec.values[key] is None or rec.values[key] == "":
            if required:
                problems.append(Problem(rec.path, rec.line,
                                        f"missing required field {key!r}: {what}", Check.SOURCE
                                        if key == "sources" else Check.SCHEMA))
                bad = True
            continue
        prob = _type_problem(rec, key, rec.values[key])
        if prob:
            problems.append(prob)
            bad = True
    if bad:
        return None
    # an optional field left empty ("kind:") is as good as absent
    v = {k: x for k, x in rec.values.items() if x is not None and x != ""}
    fid = str(v["id"])
    if not FACT_ID.match(fid):
        problems.append(Problem(rec.path, rec.line_of("id"),
                                f"bad fact id {fid!r}: use lowercase letters, digits, '.', "
                                "'_' and '-'", Check.SCHEMA))
        return None
    kind = v.get("kind", "figure")
    if kind not in KINDS:
        problems.append(Problem(rec.path, rec.line_of("kind"),
                                f"unknown kind {kind!r}: use one of {', '.join(KINDS)}",
                                Check.SCHEMA))
        return None
    as_of = AsOf.parse(v["as_of"])
    if as_of is None:
        problems.append(_date_problem(rec, "as_of", v["as_of"],
                                      "use YYYY-MM-DD, YYYY-MM or YYYY"))
        return None
    review: dt.date | None
    raw_review = v["review_by"]
    if isinstance(raw_review, dt.date) and not isinstance(raw_review, dt.datetime):
        review = raw_review
    elif raw_review == "never":
        review = None
    else:  # a time of day (a datetime) has no place in a review date either
        problems.append(_date_problem(rec, "review_by", str(raw_review)
                                      if isinstance(raw_review, dt.datetime) else raw_review,
                                      "use YYYY-MM-DD, or 'never' for settled history"))
        return None
    sources = v["sources"]
    if not sources or not all(isinstance(s, str) and s for s in sources):
        problems.append(Problem(rec.path, rec.line_of("sources"),
                                "fact has no source: list one or more source keys",
                                Check.SOURCE))
        return None
    for key in ("value", "excerpt"):  # reported, yet the fact stays known (its id is taken)
        if str(v[key]).lstrip().startswith(PLACEHOLDER):
            problems.append(Problem(rec.path, rec.line_of(key), f"field {key!r} is still a "
                                    f"{PLACEHOLDER} placeholder (new-fact): fill it in",
                                    Check.SCHEMA))
    if "unit" in v and "number" not in v:
        problems.append(Problem(rec.path, rec.line_of("unit"),
                                "'unit' needs a 'number' beside it", Check.SCHEMA))
        return None
    if "series" in v and "number" not in v:
        problems.append(Problem(rec.path, rec.line_of("series"),
                                "'series' needs a 'number' beside it", Check.SCHEMA))
        return None
    return Fact(
        id=fid, value=str(v["value"]), as_of=as_of, review_by=review, sources=list(sources),
        excerpt=str(v["excerpt"]).strip(), path=rec.path, line=rec.line, kind=kind,
        number=v.get("number"), unit=v.get("unit"), series=v.get("series"),
        chronology=v.get("chronology"), note=v.get("note"), caveat=v.get("caveat"),
        disputed=v.get("disputed"), lines=dict(rec.lines),
    )


# --------------------------------------------------------------------------- sources

_ENTRY = re.compile(r"^\s*@(\w+)\s*[{(]\s*([^,\s]*)\s*,?", re.M)
_FIELD = re.compile(r"^\s*(\w+)\s*=\s*", re.M)
SOURCE_REQUIRED = ("title", "year", "url", "urldate")


def _bib_fields(body: str) -> dict[str, str]:
    """Field values of one entry body, braces and quotes stripped (enough for checks)."""
    fields: dict[str, str] = {}
    for m in _FIELD.finditer(body):
        name = m.group(1).lower()
        pos, depth, out = m.end(), 0, []
        quote = body[pos:pos + 1] == '"'
        if quote:
            pos += 1
        while pos < len(body):
            ch = body[pos]
            if ch == "{":
                depth += 1
            elif ch == "}":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (ch == '"' if quote else ch in ",\n"):
                break  # the end of the value: its closing quote, or a comma or line end
            if ch not in "{}":
                out.append(ch)
            pos += 1
        fields[name] = bib_text(" ".join("".join(out).split()))
    return fields


#: LaTeX escapes of BibTeX text (as scaffold.bib_escape writes them, braces already
#: stripped) and the characters they stand for
_LATEX_ESCAPE = re.compile(r"\\(textbackslash|textbraceleft|textbraceright|textasciitilde"
                           r"|textasciicircum)|\\([&%$#_{}])")
_LATEX_CHARS = {"textbackslash": "\\", "textbraceleft": "{", "textbraceright": "}",
                "textasciitilde": "~", "textasciicircum": "^"}


def bib_text(value: str) -> str:
    """A BibTeX field's text as readers see it: ``Q\\&A`` is ``Q&A``."""
    return _LATEX_ESCAPE.sub(lambda m: _LATEX_CHARS[m[1]] if m[1] else m[2], value)


def load_sources(path: Path, display: str, problems: list[Problem],
                 bad_keys: set[str] | None = None) -> list[Source]:
    """Entries of a BibTeX file with their lines; malformed files are reported, not raised."""
    text = read_text(path, display, problems)
    if text is None:
        return []
    problems.extend(invisible_problems(text, display))
    import pybtex.errors
    from pybtex.database import parse_string
    from pybtex.scanner import PybtexError, PybtexSyntaxError

    entries = list(_ENTRY.finditer(text))
    out = []
    seen: dict[str, int] = {}
    for i, m in enumerate(entries):
        kind, key = m.group(1).lower(), m.group(2)
        if kind in ("comment", "preamble", "string"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        end = entries[i + 1].start() if i + 1 < len(entries) else len(text)
        strict, pybtex.errors.strict = pybtex.errors.strict, True
        chunk = text[m.start():end]
        try:  # one entry at a time: a bad entry is reported at its own line
            parse_string(chunk, "bibtex")
        except PybtexSyntaxError as exc:
            if bad_keys is not None:
                bad_keys.add(key)
            what = re.sub(r"\s*in line \d+", "", str(exc))
            # pybtex also counts a lone '\r' as a line break: count lines up to the error's
            # position the way editors and ``grep -n`` do
            pos = exc.error_context_info[-1] if exc.error_context_info else None
            offset = (chunk.count("\n", 0, pos) if isinstance(pos, int)
                      else (exc.lineno or 1) - 1)
            problems.append(Problem(display, line + offset,
                                    f"malformed BibTeX in entry {key!r}: {what}", Check.BIB))
            continue
        except PybtexError as exc:
            if bad_keys is not None:
                bad_keys.add(key)
            problems.append(Problem(display, line, f"malformed BibTeX in entry {key!r}: "
                                    f"{str(exc).splitlines()[0]}", Check.BIB))
            continue
        finally:
            pybtex.errors.strict = strict
        if key in seen:
            problems.append(Problem(display, line, f"duplicate source key {key!r} (first "
                                    f"defined at line {seen[key]})", Check.DUPLICATE))
            continue
        seen[key] = line
        body = text[m.end():end]
        fields = _bib_fields(body)
        missing = [f for f in SOURCE_REQUIRED if not fields.get(f)]
        if not (fields.get("author") or fields.get("howpublished") or fields.get("organization")):
            missing.append("author or howpublished")
        if missing:
            problems.append(Problem(display, line,
                                    f"source {key!r} lacks {', '.join(missing)}", Check.BIB))
        for name, value in fields.items():
            if value.startswith(PLACEHOLDER):
                problems.append(Problem(display, line, f"source {key!r}: field {name!r} is "
                                        f"still a {PLACEHOLDER} placeholder (new-source): "
                                        "fill it in", Check.BIB))
        archive = fields.get("archiveurl", "")
        if archive and not re.fullmatch(r"https?://\S+", archive):
            problems.append(Problem(display, line,
                                    f"source {key!r}: archiveurl {archive!r} is not an http(s) "
                                    "address", Check.BIB))
        urldate = fields.get("urldate", "")
        if urldate and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", urldate):
            problems.append(Problem(display, line,
                                    f"source {key!r}: urldate {urldate!r} is not YYYY-MM-DD",
                                    Check.BIB))
        out.append(Source(key, display, line, fields))
    return out


# --------------------------------------------------------------------------- link status

#: the file, in the data folder, where `make linkcheck` records what it found at source URLs
LINK_STATUS = "link-status.yaml"
#: field -> required, in the order `make linkcheck` writes them
LINK_FIELDS = {"url": True, "source": False, "status": True, "first_seen": False,
               "checked": True, "info": False, "excerpts_checked": False, "excerpts": False}
LINK_STATES = ("live", "unreachable", "suspect", "dead")
EXCERPT_STATES = ("found", "missing")


def _link_date(rec: Record, key: str, problems: list[Problem]) -> tuple[bool, dt.date | None]:
    """(usable, date) of an optional date field of a link status record."""
    value = rec.values.get(key)
    if value is None:
        return True, None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return True, value
    shown = str(value) if isinstance(value, dt.datetime) else value
    problems.append(Problem(rec.path, rec.line_of(key),
                            f"bad date {shown!r} in {key!r}: use YYYY-MM-DD", Check.SCHEMA))
    return False, None


def link_status_from_record(rec: Record, problems: list[Problem]) -> LinkStatus | None:
    """Validate one record of the link status file; append its problems."""
    ok = fields_ok(rec, LINK_FIELDS, problems, ("url", "source", "status", "info"))
    dates = {}
    for key in ("checked", "first_seen", "excerpts_checked"):
        good, dates[key] = _link_date(rec, key, problems)
        ok = ok and good
    status = rec.values.get("status")
    if not isinstance(status, str) or not status:
        ok = False  # reported by fields_ok
    elif status not in LINK_STATES:
        problems.append(Problem(rec.path, rec.line_of("status"),
                                f"unknown status {status!r}: use one of "
                                f"{', '.join(LINK_STATES)}", Check.SCHEMA))
        ok = False
    elif status in ("suspect", "dead") and dates["first_seen"] is None and ok:
        problems.append(Problem(rec.path, rec.line, f"a {status} url needs 'first_seen': the "
                                "date of its first definite failure", Check.SCHEMA))
        ok = False
    first, checked = dates["first_seen"], dates["checked"]
    if first and checked and first > checked:
        problems.append(Problem(rec.path, rec.line_of("first_seen"),
                                f"'first_seen' ({first}) is later than 'checked' ({checked})",
                                Check.SCHEMA))
        ok = False
    excerpts: dict[str, str] = {}
    raw = rec.values.get("excerpts")
    if raw is not None:
        if not isinstance(raw, dict):
            problems.append(Problem(rec.path, rec.line_of("excerpts"),
                                    "field 'excerpts' must map fact ids to found or missing",
                                    Check.SCHEMA))
            ok = False
        else:
            for fid, state in raw.items():
                if not isinstance(fid, str) or state not in EXCERPT_STATES:
                    problems.append(Problem(rec.path, rec.line_of("excerpts"),
                                            f"excerpt of {fid!r} is {state!r}: use found or "
                                            "missing", Check.SCHEMA))
                    ok = False
                else:
                    excerpts[fid] = state
            if dates["excerpts_checked"] is None and ok:
                problems.append(Problem(rec.path, rec.line_of("excerpts"),
                                        "'excerpts' needs 'excerpts_checked': the date they "
                                        "were looked for", Check.SCHEMA))
                ok = False
    if not ok or checked is None:
        return None
    return LinkStatus(str(rec.values["url"]), checked, str(rec.values.get("info") or ""),
                      rec.path, rec.line, status=str(status), first_seen=first,
                      source=str(rec.values.get("source") or ""), excerpts=excerpts,
                      excerpts_checked=dates["excerpts_checked"])


def load_link_status(path: Path, display: str, problems: list[Problem]) -> dict[str, LinkStatus]:
    """What the last link checks found, by URL; schema problems are reported with the
    file's lines."""
    out: dict[str, LinkStatus] = {}
    for rec in load_records(path, display, problems):
        status = link_status_from_record(rec, problems)
        if status is None:
            continue
        if status.url in out:
            problems.append(Problem(rec.path, rec.line_of("url"),
                                    f"url {status.url!r} given twice (first at line "
                                    f"{out[status.url].line})", Check.DUPLICATE))
            continue
        out[status.url] = status
    return out


def apply_link_status(reg: Registry, links: dict[str, LinkStatus]) -> None:
    """Mark dead sources; a dead source without an archived copy is a problem at its entry.
    Only ``dead`` records count: ``unreachable`` and ``suspect`` ones change nothing."""
    for src in reg.sources.values():
        status = links.get(src.url)
        if status is None or status.status != "dead":
            continue
        src.dead = status
        if not src.archiveurl:
            reg.problems.append(Problem(
                src.path, src.line,
                f"source {src.key!r}: its url was reported dead on {status.checked} "
                f"({status.path}:{status.line}): add an 'archiveurl' field with the address "
                "of an archived copy of the same page, or replace the url", Check.DEAD_LINK))


def apply_excerpt_status(reg: Registry, links: dict[str, LinkStatus]) -> None:
    """A fact whose excerpt every one of its sources reported missing gets the date of the
    latest of those checks (:attr:`Fact.excerpt_gone`): a notice to readers, not a problem."""
    for fact in reg.facts.values():
        days: list[dt.date] = []
        for key in fact.sources:
            src = reg.sources.get(key)
            status = links.get(src.url) if src else None
            if status is None or status.excerpts.get(fact.id) != "missing":
                days = []
                break
            assert status.excerpts_checked is not None
            days.append(status.excerpts_checked)
        fact.excerpt_gone = max(days) if days else None


# --------------------------------------------------------------------------- loading

def fact_files(data_dir: Path) -> list[Path]:
    files = sorted((data_dir / "facts").glob("*.yaml")) if (data_dir / "facts").is_dir() else []
    single = data_dir / "facts.yaml"
    return ([single] if single.is_file() else []) + files


def load_registry(data_dir: Path, bib_files: Iterable[Path], display_root: Path | None = None
                  ) -> Registry:
    """Load and cross-check every fact and source. Never raises on bad data."""

    def show(p: Path) -> str:
        if display_root is None:
            return str(p)
        try:
            return str(p.resolve().relative_to(display_root.resolve()))
        except ValueError:
            return str(p)

    reg = Registry()
    for bib in bib_files:
        reg.files.append(bib)
        if not bib.is_file():
            reg.problems.append(Problem(show(bib), 1, "source file not found", Check.BIB))
            continue
        for src in load_sources(bib, show(bib), reg.problems, reg.bad_sources):
            if src.key in reg.sources:
                first = reg.sources[src.key]
                reg.problems.append(Problem(src.path, src.line,
                                            f"duplicate source key {src.key!r} (first defined "
                                            f"at {first.path}:{first.line})", Check.DUPLICATE))
                continue
            reg.sources[src.key] = src
    by_url: dict[str, Source] = {}
    for src in reg.sources.values():
        first = by_url.setdefault(src.url.rstrip("/"), src) if src.url else src
        if first is not src:  # one page, two keys: the book would list it twice
            reg.problems.append(Problem(src.path, src.line,
                                        f"source {src.key!r} has the same URL as {first.key!r} "
                                        f"({first.path}:{first.line}): cite {first.key!r} "
                                        "and remove this entry", Check.DUPLICATE))
    status_file = data_dir / LINK_STATUS
    links: dict[str, LinkStatus] = {}
    if status_file.is_file():
        reg.files.append(status_file)
        links = load_link_status(status_file, show(status_file), reg.problems)
        apply_link_status(reg, links)
    for path in fact_files(data_dir):
        reg.files.append(path)
        before = len(reg.problems)
        records = load_records(path, show(path), reg.problems)
        if not records and len(reg.problems) > before:
            reg.unreadable = True
        for rec in records:
            fact = fact_from_record(rec, reg.problems)
            if fact is None:
                if isinstance(rec.values.get("id"), str):
                    reg.dropped.add(rec.values["id"])
                continue
            if fact.id in reg.facts:
                earlier = reg.facts[fact.id]
                reg.problems.append(Problem(fact.path, fact.lines.get("id", fact.line),
                                            f"duplicate fact id {fact.id!r} (first defined at "
                                            f"{earlier.path}:{earlier.line})", Check.DUPLICATE))
                continue
            reg.facts[fact.id] = fact
    for fact in reg.facts.values():
        for key in fact.sources:
            if key not in reg.sources and key not in reg.bad_sources:
                reg.problems.append(Problem(fact.path, fact.lines.get("sources", fact.line),
                                            f"fact {fact.id!r} cites unknown source {key!r}: "
                                            "add it to the .bib file or fix the key",
                                            Check.SOURCE))
    apply_excerpt_status(reg, links)
    return reg


def stale_problems(reg: Registry, today: dt.date) -> list[Problem]:
    out = []
    for fact in reg.facts.values():
        if fact.is_stale(today):
            out.append(Problem(fact.path, fact.lines.get("review_by", fact.line),
                               f"fact {fact.id!r} is past its review date "
                               f"({fact.review_by}, today is {today}): re-check the source, "
                               "then update value, as_of and review_by", Check.STALE))
    return out


def fact_ref(reg: Registry, rec: Record, key: str, problems: list[Problem], check: Check,
             advice: str, waiting: set[str]) -> Fact | None:
    """The fact that field ``key`` of a data record names (a mission's start or end, the
    scenarios' start, a signpost's fact), for every data file that references fact ids.

    None when the field is absent or names no usable fact.  An id unknown to the registry
    is reported at the field's line, with a suggestion; an id whose fact was dropped for a
    data error (or any id, when a facts file could not be read) is not: the data error
    already names the place to fix, and the id goes into ``waiting`` (so that a diagram
    left without anything to draw says nothing more either).
    """
    fid = rec.values.get(key)
    if fid is None:
        return None
    fact = reg.facts.get(fid) if isinstance(fid, str) else None
    if fact is None and isinstance(fid, str) and reg.has_data_error(fid):
        waiting.add(fid)
    elif fact is None:
        hint = suggest(fid, reg.facts) if isinstance(fid, str) else ""
        problems.append(Problem(rec.path, rec.line_of(key),
                                f"{key} {fid!r} is not a fact id of the registry{hint}: "
                                f"{advice}", check))
    return fact


def suggest(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
