"""The fact registry: loading, schema validation, freshness, references to facts.

Facts live in ``<data>/facts/*.yaml`` (a YAML list of records); sources in the BibTeX
files that ``bibtex_bibfiles`` names (:mod:`handbook_tools.bibfile`), with what the link
checks found at their URLs (:mod:`handbook_tools.linkstatus`).  Everything here is pure:
it takes paths and returns values and :class:`~handbook_tools.problems.Problem` lists, so
the Sphinx extension and the CLI share it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bibfile import PLACEHOLDER, Source, load_sources
from .dates import AsOf
from .linkstatus import (
    LINK_STATUS,
    LinkStatus,
    apply_excerpt_status,
    apply_link_status,
    load_link_status,
)
from .problems import Check, Problem
from .yamlnodes import Record, load_records

FACT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
KINDS = ("figure", "date", "name")


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
