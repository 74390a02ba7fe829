"""Checks of prose against the glossary and the registry, run once all pages are read.

- ``acronym``: an acronym in prose that the glossary does not define (``handbook_acronym_allowlist``
  names the few that need no entry);
- ``term-link``: the first use of a glossary term on a page is plain text, not ``{term}``;
- ``unused-term``: a glossary entry that no page links to;
- ``expansion``: "Long Name (ACR)" in prose that differs from the glossary's expansion.

The same walk of each page feeds the ``typed-figure`` check (:mod:`handbook_tools.typedfigures`).

The checks walk the pickled doctrees in the main process, after every reader has merged,
so they are parallel-safe and run on every build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from .problems import Check, warn
from .prose import Chunk, walk
from .state import get_registry
from .typedfigures import check_chunk, figures_held

ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Za-z0-9]*(?:-[A-Z0-9][A-Za-z0-9]*)*)(?![\w-])")
EXPANDED = re.compile(r"([\w'’-]+,?(?:\s[\w'’-]+,?){0,8})\s\(([A-Z][A-Za-z0-9-]+)\)")


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


def collect_glossary(env: BuildEnvironment) -> Glossary:
    gloss = Glossary()
    std_terms = env.domains.standard_domain._terms
    for docname in sorted({doc for doc, _ in std_terms.values()}):
        tree = env.get_doctree(docname)
        for item in tree.findall(nodes.definition_list_item):
            if not isinstance(item.parent.parent, addnodes.glossary):
                continue
            terms = [t for t in item.children if isinstance(t, nodes.term)]
            names = [t.astext().strip() for t in terms]
            definition = next((d for d in item.children if isinstance(d, nodes.definition)),
                              None)
            strong = next(definition.findall(nodes.strong), None) if definition else None
            gloss.add(Entry(names, docname, _term_line(env, docname, names[0]) if names else 0,
                            strong.astext() if strong else None))
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


def check_page(env: BuildEnvironment, docname: str, gloss: Glossary, glossary_docs: set[str],
               allow: set[str], held: dict[float, str]) -> None:
    """``allow``: acronyms needing no entry; ``held``: registry numbers -> a fact id."""
    tree = env.get_doctree(docname)
    linked: set[int] = set()
    reported: set[str] = set()
    is_glossary = docname in glossary_docs
    for item in walk(tree):
        if isinstance(item, addnodes.pending_xref):
            target = str(item.get("reftarget", ""))
            entry = gloss.by_lower.get(target.lower())
            if entry is not None:
                if not is_glossary:
                    gloss.mark_used(target)
                linked.add(id(entry))
            continue
        assert isinstance(item, Chunk)
        text = str(item.text)
        for token in _tokens(text, gloss):
            entry = gloss.by_term.get(token)
            if entry is None and is_acronym(token) and token not in allow:
                entry = gloss.by_lower.get(token.lower())
                if entry is None:
                    if "acronym:" + token not in reported:
                        reported.add("acronym:" + token)
                        warn(Check.ACRONYM, f"acronym {token!r} is not defined in the "
                             "glossary: add an entry, or add it to handbook_acronym_allowlist "
                             "in conf.py with a reason", (docname, item.line))
                    continue
            if entry is None or is_glossary or item.in_title:
                continue
            if id(entry) not in linked and "term:" + token not in reported:
                reported.add("term:" + token)
                entry.flagged = True  # the unlinked use is the one message about it
                warn(Check.TERM_LINK, f"first use of glossary term {token!r} on this page "
                     f"is not linked: write {{term}}`{token}`", (docname, item.line))
        check_chunk(docname, item, held)
    if is_glossary:
        return
    for para in tree.findall(nodes.paragraph):
        text = "".join(str(i.text) if isinstance(i, Chunk) else i.astext()
                       for i in walk(para))
        for m in EXPANDED.finditer(text):
            acr = m.group(2)
            entry = gloss.by_term.get(acr)
            if entry is None or not entry.expansion:
                continue
            want = _norm(entry.expansion)
            got = " ".join(_norm(m.group(1)).split()[-len(want.split()):])
            if got != want:
                warn(Check.EXPANSION, f"{acr} is expanded as {got!r} here but as "
                     f"{entry.expansion!r} in the glossary: use one expansion",
                     (docname, para.line or 0))


def check_glossary(app: Sphinx, env: BuildEnvironment) -> None:
    if not app.config.handbook_checks:
        return
    gloss = collect_glossary(env)
    glossary_docs = {e.docname for e in gloss.entries}
    allow = set(app.config.handbook_acronym_allowlist)
    held = figures_held(get_registry(env))
    for docname in sorted(env.found_docs):
        if docname in env.all_docs:
            check_page(env, docname, gloss, glossary_docs, allow, held)
    for entry in gloss.entries:
        if not entry.used and not entry.flagged:
            warn(Check.UNUSED_TERM, f"glossary entry {' / '.join(entry.terms)!r} is never "
                 f"linked from a page: link it with {{term}}`{entry.terms[0]}` or remove it",
                 (entry.docname, entry.line))


def setup_glossary(app: Sphinx) -> None:
    app.connect("env-updated", check_glossary)
