"""The publisher register: who published each source, and how far the book leans on it.

``<data>/publishers.yaml`` lists publishers (``id``, ``name``, ``standing``, ``domains``,
``reason``).  A source's publisher is found from its URL's host: a record matches when the
host equals one of its domains or ends with ``"." + domain``; the longest matching domain
wins.  A BibTeX entry that reposts another outlet's story names that outlet with
``original = {publisher-id}`` and takes its standing (the URL stays the page that was read).

The standing scale follows Wikipedia's perennial sources list, best first:
``official`` (primary statements of governments and intergovernmental bodies), ``major``
("generally reliable" wire services, papers and broadcasters), ``established`` (regional or
specialist outlets, think tanks for attributed analysis), ``weak`` ("generally
unreliable": aggregators, reposts without a named original, small unknown sites) and
``deprecated`` (deprecated on that list, or state media on this topic).

Rules (each a :class:`~handbook_tools.problems.Check`):

- ``publisher``: a source whose host no record claims, or whose ``original`` is no
  publisher id, at the source's ``.bib`` line;
- ``deprecated-only``: a fact whose sources are all deprecated, at the fact's line;
- ``weak-only``: a fact whose best source is weak and that has no ``caveat``;
- ``disputed``: a ``disputed`` field with no text (readers see it beside the value).  It
  may name figures given by sources of other facts, so a disputed fact may cite one
  source.

Without a ``publishers.yaml`` the standing checks are off and nothing shows standing.
Everything here is pure (paths in, values and problems out), shared by the extension and
the CLI.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .bibfile import Source
from .problems import Check, Problem
from .registry import Fact, Registry
from .yamlnodes import fields_ok, load_records

#: the file, in the data folder, holding the publisher register
PUBLISHERS = "publishers.yaml"
#: the scale, best first
STANDINGS = ("official", "major", "established", "weak", "deprecated")
PUBLISHER_FIELDS = {"id": True, "name": True, "standing": True, "domains": True,
                    "reason": True}
PUBLISHER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")

DEPRECATED_ONLY = ("a deprecated outlet may be cited in prose only to report what it or its "
                   "government said, never as a fact's only source")


@dataclass
class Publisher:
    id: str
    name: str
    standing: str
    domains: list[str]
    reason: str
    path: str
    line: int


@dataclass
class Attribution:
    """Who stands behind one source: its publisher, or for a repost its original outlet
    (and the site that was read, when the register knows it)."""

    publisher: Publisher  #: whose standing the source takes
    original: bool = False  #: a repost: ``publisher`` is the original outlet
    host: Publisher | None = None  #: for a repost: the site that was read, when known

    @property
    def standing(self) -> str:
        return self.publisher.standing

    def who(self) -> str:
        """'Reuters', or 'Yahoo News, repost of Al Jazeera'."""
        if not self.original:
            return self.publisher.name
        site = f"{self.host.name}, " if self.host is not None else ""
        return f"{site}repost of {self.publisher.name}"

    def label(self) -> str:
        """'Reuters, major' or 'Yahoo News, repost of Al Jazeera, established'."""
        return f"{self.who()}, {self.standing}"


@dataclass
class Publishers:
    """The register read from one file: its publishers by id and by the domains they claim."""

    path: Path
    display: str  #: the file as messages name it
    by_id: dict[str, Publisher] = field(default_factory=dict)
    by_domain: dict[str, Publisher] = field(default_factory=dict)  #: domain -> its publisher

    def for_host(self, host: str) -> Publisher | None:
        host = host.lower().rstrip(".")
        best: tuple[int, Publisher] | None = None
        for domain, pub in self.by_domain.items():
            if (host == domain or host.endswith("." + domain)) and \
                    (best is None or len(domain) > best[0]):
                best = (len(domain), pub)
        return best[1] if best else None


def host_of(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def load_publishers(path: Path, display: str, problems: list[Problem]) -> Publishers:
    """The register, with its schema problems (at the file's lines) appended."""
    pubs = Publishers(path, display)
    claimed: dict[str, tuple[Publisher, int]] = {}
    for rec in load_records(path, display, problems):
        if not fields_ok(rec, PUBLISHER_FIELDS, problems, ("id", "name", "standing",
                                                           "reason")):
            continue
        pid, standing, domains = rec.values["id"], rec.values["standing"], rec.values["domains"]
        if not PUBLISHER_ID.match(pid):
            problems.append(Problem(rec.path, rec.line_of("id"),
                                    f"bad publisher id {pid!r}: use lowercase letters, "
                                    "digits, '.', '_' and '-'", Check.SCHEMA))
            continue
        if standing not in STANDINGS:
            close = difflib.get_close_matches(standing.lower(), STANDINGS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(rec.path, rec.line_of("standing"),
                                    f"unknown standing {standing!r}{hint}: use one of "
                                    f"{', '.join(STANDINGS)}", Check.SCHEMA))
            continue
        if not isinstance(domains, list) or not all(isinstance(d, str) and DOMAIN.match(d)
                                                    for d in domains):
            problems.append(Problem(rec.path, rec.line_of("domains"),
                                    "field 'domains' must be a list of lowercase host names "
                                    "such as [reuters.com]", Check.SCHEMA))
            continue
        if pid in pubs.by_id:
            first = pubs.by_id[pid]
            problems.append(Problem(rec.path, rec.line_of("id"),
                                    f"duplicate publisher id {pid!r} (first defined at line "
                                    f"{first.line})", Check.DUPLICATE))
            continue
        pub = Publisher(pid, rec.values["name"], standing, list(domains), rec.values["reason"],
                        rec.path, rec.line)
        pubs.by_id[pid] = pub
        for domain in domains:
            if domain in claimed:
                other, line = claimed[domain]
                problems.append(Problem(rec.path, rec.line_of("domains"),
                                        f"domain {domain!r} is claimed by {other.id!r} too "
                                        f"(line {line}): give each domain to one publisher",
                                        Check.DUPLICATE))
                continue
            claimed[domain] = (pub, rec.line_of("domains"))
            pubs.by_domain[domain] = pub
    return pubs


def load_for(data_dir: Path, show: str | None = None,
             problems: list[Problem] | None = None) -> Publishers | None:
    """The data folder's register, or None when the project has none (checks off)."""
    path = data_dir / PUBLISHERS
    if not path.is_file():
        return None
    return load_publishers(path, show or str(path), problems if problems is not None else [])


# --------------------------------------------------------------------------- attribution

def attribute(pubs: Publishers, src: Source) -> Attribution | None:
    """The publisher a source's standing comes from, or None when the register lacks it."""
    original = src.fields.get("original", "").strip()
    host = pubs.for_host(host_of(src.url))
    if original:
        pub = pubs.by_id.get(original)
        return None if pub is None else Attribution(pub, True, host if host is not pub else None)
    return None if host is None else Attribution(host)


def attributions(reg: Registry, pubs: Publishers) -> dict[str, Attribution]:
    out = {}
    for key, src in reg.sources.items():
        att = attribute(pubs, src)
        if att is not None:
            out[key] = att
    return out


def best_standing(fact: Fact, atts: dict[str, Attribution]) -> str | None:
    """The best standing among a fact's sources; None when any source is unattributed."""
    ranks = [STANDINGS.index(atts[k].standing) for k in fact.sources if k in atts]
    if not ranks or len(ranks) != len(fact.sources):
        return None
    return STANDINGS[min(ranks)]


def _domain_hint(host: str, pubs: Publishers) -> str:
    bare = host.removeprefix("www.")
    close = difflib.get_close_matches(bare, list(pubs.by_domain), n=1, cutoff=0.8)
    if not close:
        return ""
    return f" (did you mean {close[0]!r}, of {pubs.by_domain[close[0]].id!r}?)"


def source_problems(reg: Registry, pubs: Publishers) -> list[Problem]:
    out = []
    for src in reg.sources.values():
        original = src.fields.get("original", "").strip()
        if original:
            if original not in pubs.by_id:
                close = difflib.get_close_matches(original, list(pubs.by_id), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                out.append(Problem(src.path, src.line,
                                   f"source {src.key!r}: original {original!r} is not a "
                                   f"publisher id of {pubs.display}{hint}", Check.PUBLISHER))
            continue
        host = host_of(src.url)
        if not host or pubs.for_host(host) is not None:
            continue  # no URL is the .bib check's to report
        out.append(Problem(src.path, src.line,
                           f"source {src.key!r}: no publisher in {pubs.display} claims host "
                           f"{host!r}{_domain_hint(host, pubs)}: add a record (id, name, "
                           f"standing, domains: [{host.removeprefix('www.')}], reason), or "
                           "name the outlet whose story this reposts with "
                           "original = {publisher-id}", Check.PUBLISHER))
    return out


def fact_problems(reg: Registry, pubs: Publishers) -> list[Problem]:
    atts = attributions(reg, pubs)
    out = []
    for fact in reg.facts.values():
        line = fact.line
        best = best_standing(fact, atts)
        if best == "deprecated":
            out.append(Problem(fact.path, line, f"fact {fact.id!r} rests only on deprecated "
                               f"sources: {DEPRECATED_ONLY}; cite a source of better "
                               "standing", Check.DEPRECATED_ONLY))
        elif best == "weak" and not (fact.caveat or "").strip():
            out.append(Problem(fact.path, line, f"fact {fact.id!r} rests only on weak "
                               "sources: cite a source of better standing, or add a "
                               "'caveat' readers see beside the value (such as 'unconfirmed: "
                               "one aggregator')", Check.WEAK_ONLY))
        if "disputed" in fact.lines and not (fact.disputed or "").strip():
            out.append(Problem(fact.path, fact.lines["disputed"], f"fact {fact.id!r}: "
                               "'disputed' is empty: write the spread readers see, each "
                               "figure with who gives it, or remove the field",
                               Check.DISPUTED))
    return out


def standing_problems(reg: Registry, pubs: Publishers | None) -> list[Problem]:
    """Every rule of the register over the loaded facts and sources (none without one)."""
    if pubs is None:
        return []
    return source_problems(reg, pubs) + fact_problems(reg, pubs)


def standing_counts(reg: Registry, pubs: Publishers) -> tuple[Counter[str], Counter[str]]:
    """(sources per standing, facts per best standing); 'unknown' counts the rest."""
    atts = attributions(reg, pubs)
    sources = Counter(atts[k].standing if k in atts else "unknown" for k in reg.sources)
    facts = Counter(best_standing(f, atts) or "unknown" for f in reg.facts.values())
    return sources, facts


def counts_text(label: str, counts: Counter[str]) -> str:
    order = [*STANDINGS, "unknown"]
    parts = [f"{counts[s]} {s}" for s in order if counts[s] or s != "unknown"]
    return f"{label}: " + ", ".join(parts)


def load_all(data_dir: Path, bib_files: list[Path], display_root: Path | None = None
             ) -> tuple[Registry, Publishers | None]:
    """The registry and the publisher register, every problem of both in the registry's
    list (the register file among its files, so pages showing standing depend on it)."""
    from .registry import load_registry

    reg = load_registry(data_dir, bib_files, display_root=display_root)
    path = data_dir / PUBLISHERS
    if not path.is_file():
        return reg, None
    show = str(path)
    if display_root is not None:
        with contextlib.suppress(ValueError):
            show = str(path.resolve().relative_to(display_root.resolve()))
    reg.files.append(path)
    pubs = load_publishers(path, show, reg.problems)
    reg.problems.extend(standing_problems(reg, pubs))
    return reg, pubs
