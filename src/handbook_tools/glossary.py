"""Checks of prose against the glossary and the registry, run once all pages are read.

- ``acronym``: an acronym in prose that the glossary does not define (``handbook_acronym_allowlist``
  names the few that need no entry);
- ``term-link``: the first use of a glossary term on a page is plain text, not ``{term}``;
- ``unused-term``: a glossary entry that no page links to;
- ``expansion``: "Long Name (ACR)" in prose that differs from the glossary's expansion.

The same walk of each page feeds the ``typed-figure`` check (:mod:`handbook_tools.typedfigures`).

What the checks need of a page (its prose chunks and glossary references in order, its
paragraphs, the glossary entries it defines) is recorded when the page is read
(``doctree-read``, merged from parallel readers, dropped with the page), so the checks run
on every build, over every page, without unpickling a doctree; what each page's check
found is kept, and checked again only when the page's record, the glossary or a setting
changed.
"""

from __future__ import annotations

import hashlib
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from .problems import Check, warn
from .prose import Chunk, walk
from .state import get_registry, keep_page_records, page_records
from .typedfigures import check_chunk, figures_held

ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Za-z0-9]*(?:-[A-Z0-9][A-Za-z0-9]*)*)(?![\w-])")
EXPANDED = re.compile(r"([\w'’-]+,?(?:\s[\w'’-]+,?){0,8})\s\(([A-Z][A-Za-z0-9-]+)\)")
#: the environment's attribute holding each page's :class:`PageProse`
RECORDS = "handbook_prose"
#: what every match of EXPANDED ends with: a quick test before the slow search
PARENTHESISED = re.compile(r"\s\([A-Z][A-Za-z0-9-]+\)")


def is_acronym(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    upper = sum(1 for c in letters if c.isupper())
    return upper >= 2 and upper * 2 >= len(letters)


@dataclass
class Entry:
    """One glossary entry: its terms, where it is defined, and its expansion."""

    terms: list[str]
    docname: str
    line: int
    expansion: str | None
    used: bool = False
    flagged: bool = False  #: an unlinked use was reported: "never linked" would repeat it


@dataclass
class Glossary:
    entries: list[Entry] = field(default_factory=list)
    by_term: dict[str, Entry] = field(default_factory=dict)  # exact-case term -> entry
    by_lower: dict[str, Entry] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        for term in entry.terms:
            self.by_term.setdefault(term, entry)
            self.by_lower.setdefault(term.lower(), entry)

    def mark_used(self, term: str) -> None:
        """A link to a term uses every entry that defines it (duplicates included)."""
        for entry in self.entries:
            if term.lower() in (t.lower() for t in entry.terms):
                entry.used = True


@dataclass
class PageProse:
    """What the checks need of one page, recorded when it is read (picklable: no nodes)."""

    #: in document order: a glossary reference's target (``str``) or a prose chunk
    items: list[str | Chunk]
    #: each paragraph's text (references as their text) and line: the expansion check
    paragraphs: list[tuple[str, int]]
    #: the glossary entries the page defines: their terms, line and expansion
    entries: list[tuple[list[str], int, str | None]]
    #: a hash of the above, taken when the page is read (the checks' key for the page)
    digest: bytes = b""


def recorded(env: BuildEnvironment) -> dict[str, PageProse]:
    """docname -> its :class:`PageProse`, kept in the environment between builds."""
    return page_records(env, RECORDS)


def page_entries(env: BuildEnvironment, docname: str, tree: nodes.document
                 ) -> list[tuple[list[str], int, str | None]]:
    entries = []
    for item in tree.findall(nodes.definition_list_item):
        if not isinstance(item.parent.parent, addnodes.glossary):
            continue
        terms = [t for t in item.children if isinstance(t, nodes.term)]
        names = [t.astext().strip() for t in terms]
        definition = next((d for d in item.children if isinstance(d, nodes.definition)),
                          None)
        strong = next(definition.findall(nodes.strong), None) if definition else None
        entries.append((names, _term_line(env, docname, names[0]) if names else 0,
                        strong.astext() if strong else None))
    return entries


def _page_key(page: PageProse) -> bytes:
    return hashlib.sha256(pickle.dumps([page.items, page.paragraphs, page.entries])).digest()


def record_page(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: keep what the checks need of the page just read."""
    if not app.config.handbook_checks:
        return
    env = app.env
    items: list[str | Chunk] = []
    for item in walk(doctree):
        if isinstance(item, Chunk):
            items.append(Chunk(str(item.text), item.line, item.in_title))
        else:
            items.append(str(item.get("reftarget", "")))
    paragraphs = []
    for para in doctree.findall(nodes.paragraph):
        text = "".join(str(i.text) if isinstance(i, Chunk) else i.astext()
                       for i in walk(para))
        paragraphs.append((text, para.line or 0))
    page = PageProse(items, paragraphs, page_entries(env, env.docname, doctree))
    page.digest = _page_key(page)
    recorded(env)[env.docname] = page


def collect_glossary(env: BuildEnvironment) -> Glossary:
    gloss = Glossary()
    pages = recorded(env)
    for docname in sorted(pages):
        for names, line, expansion in pages[docname].entries:
            gloss.add(Entry(names, docname, line, expansion))
    return gloss


def _term_line(env: BuildEnvironment, docname: str, term: str) -> int:
    """The line of a glossary term in its source (the glossary node's own line may be
    missing under MyST); of the last definition when a term is defined twice."""
    found = 0
    try:
        lines = env.doc2path(docname).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    for number, text in enumerate(lines, 1):
        if text.strip() == term and not text.startswith((" ", "\t")):
            found = found or number
    return found


def _norm(text: str) -> str:
    text = re.sub(r"['\u2019,]", "", text).replace("-", " ").replace("\u2013", " ").lower()
    text = re.sub(r"\bunited states\b|\bu\.s\.", "us", text)
    return " ".join(text.split())


def _tokens(text: str, gloss: Glossary) -> list[str]:
    """Capitalised tokens; a hyphenated one that is not a glossary term is split
    ("US-Iraq" gives "US" and "Iraq"; "CJTF-OIR" stays whole)."""
    out: list[str] = []
    for m in ACRONYM.finditer(text):
        token = m.group(1)
        if "-" in token and token not in gloss.by_term:
            out.extend(p for p in token.split("-") if p[:1].isupper())
        else:
            out.append(token)
    return out


def check_page(docname: str, page: PageProse, gloss: Glossary, glossary_docs: set[str],
               allow: set[str], held: dict[float, str],
               report: Callable[[Check, str, Any], None] = warn) -> None:
    """``allow``: acronyms needing no entry; ``held``: registry numbers -> a fact id;
    ``report``: where each problem goes."""
    linked: set[int] = set()
    reported: set[str] = set()
    is_glossary = docname in glossary_docs
    for item in page.items:
        if isinstance(item, str):  # a glossary reference's target
            entry = gloss.by_lower.get(item.lower())
            if entry is not None:
                if not is_glossary:
                    gloss.mark_used(item)
                linked.add(id(entry))
            continue
        for token in _tokens(item.text, gloss):
            entry = gloss.by_term.get(token)
            if entry is None and is_acronym(token) and token not in allow:
                entry = gloss.by_lower.get(token.lower())
                if entry is None:
                    if "acronym:" + token not in reported:
                        reported.add("acronym:" + token)
                        report(Check.ACRONYM, f"acronym {token!r} is not defined in the "
                             "glossary: add an entry, or add it to handbook_acronym_allowlist "
                             "in conf.py with a reason", (docname, item.line))
                    continue
            if entry is None or is_glossary or item.in_title:
                continue
            if id(entry) not in linked and "term:" + token not in reported:
                reported.add("term:" + token)
                entry.flagged = True  # the unlinked use is the one message about it
                report(Check.TERM_LINK, f"first use of glossary term {token!r} on this page "
                     f"is not linked: write {{term}}`{token}`", (docname, item.line))
        check_chunk(docname, item, held, report)
    if is_glossary:
        return
    for text, line in page.paragraphs:
        if not PARENTHESISED.search(text):  # EXPANDED alone backtracks through every word
            continue
        for m in EXPANDED.finditer(text):
            acr = m.group(2)
            entry = gloss.by_term.get(acr)
            if entry is None or not entry.expansion:
                continue
            want = _norm(entry.expansion)
            got = " ".join(_norm(m.group(1)).split()[-len(want.split()):])
            if got != want:
                report(Check.EXPANSION, f"{acr} is expanded as {got!r} here but as "
                     f"{entry.expansion!r} in the glossary: use one expansion",
                     (docname, line))


def check_glossary(app: Sphinx, env: BuildEnvironment) -> None:
    """Every page's record against the glossary, page by page. What a page's check found
    (its problems, the entries it links and those it uses unlinked) is kept in the
    environment under a hash of everything it follows from (the page's record, the
    glossary's entries, the allowlist, the registry's numbers): a rebuild checks again only
    the pages whose record changed, or every page when the glossary or a setting did."""
    if not app.config.handbook_checks:
        return
    allow = set(app.config.handbook_acronym_allowlist)
    held = figures_held(get_registry(env))
    pages = recorded(env)
    checked = [(d, pages[d]) for d in sorted(env.found_docs) if d in env.all_docs and d in pages]
    gloss = collect_glossary(env)
    glossary_docs = {e.docname for e in gloss.entries}
    common = pickle.dumps([[(e.terms, e.docname, e.line, e.expansion) for e in gloss.entries],
                           sorted(allow), sorted(held.items())])
    kept: dict[str, tuple[bytes, list[tuple[Check, str, Any]], list[int], list[int]]] = \
        getattr(env, "handbook_glossary_pages", {})
    now: dict[str, tuple[bytes, list[tuple[Check, str, Any]], list[int], list[int]]] = {}
    for docname, page in checked:
        key = hashlib.sha256(common + docname.encode() + b"\0"
                             + (page.digest or _page_key(page))).digest()
        if docname in kept and kept[docname][0] == key:
            now[docname] = kept[docname]
            continue
        # a fresh copy of the entries: what this page marks used or flagged is its own
        mine = Glossary()
        for entry in gloss.entries:
            mine.add(Entry(entry.terms, entry.docname, entry.line, entry.expansion))
        found: list[tuple[Check, str, Any]] = []
        check_page(docname, page, mine, glossary_docs, allow, held,
                   lambda *problem, into=found: into.append(problem))
        now[docname] = (key, found,
                        [i for i, e in enumerate(mine.entries) if e.used],
                        [i for i, e in enumerate(mine.entries) if e.flagged])
    env.handbook_glossary_pages = now  # type: ignore[attr-defined]
    for _key, found, used, flagged in now.values():
        for i in used:
            gloss.entries[i].used = True
        for i in flagged:
            gloss.entries[i].flagged = True
        for check, message, location in found:
            warn(check, message, location)
    for entry in gloss.entries:
        if not entry.used and not entry.flagged:
            warn(Check.UNUSED_TERM, f"glossary entry {' / '.join(entry.terms)!r} is never "
                 f"linked from a page: link it with {{term}}`{entry.terms[0]}` or remove it",
                 (entry.docname, entry.line))


def setup_glossary(app: Sphinx) -> None:
    # late, after other handlers that may change the tree: it is the tree Sphinx pickles
    app.connect("doctree-read", record_page, priority=900)
    keep_page_records(app, RECORDS)
    app.connect("env-updated", check_glossary)
