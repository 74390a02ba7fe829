"""The link status file (``<data>/link-status.yaml``): what ``make linkcheck`` last found
at each source URL, read and validated, then applied to the registry's sources and facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .dates import long_date
from .problems import Check, Problem
from .yamlnodes import Record, fields_ok, load_records

if TYPE_CHECKING:
    from .registry import Registry


#: the file, in the data folder, where `make linkcheck` records what it found at source URLs
LINK_STATUS = "link-status.yaml"
#: field -> required, in the order `make linkcheck` writes them
LINK_FIELDS = {"url": True, "source": False, "status": True, "first_seen": False,
               "checked": True, "info": False, "excerpts_checked": False, "excerpts": False}
LINK_STATES = ("live", "unreachable", "suspect", "dead")
EXCERPT_STATES = ("found", "missing")


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
