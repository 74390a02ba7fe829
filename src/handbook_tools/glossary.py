"""Checks of prose against the glossary and the registry, run once all pages are read.

- ``acronym``: an acronym in prose that the glossary does not define (``handbook_acronym_allowlist``
  names the few that need no entry);
- ``term-link``: the first use of a glossary term on a page is plain text, not ``{term}``;
- ``unused-term``: a glossary entry that no page links to;
- ``expansion``: "Long Name (ACR)" in prose that differs from the glossary's expansion;
- ``typed-figure``: a number the registry holds, or a grouped figure such as 170,000,
  typed in prose instead of cited with ``{fact}``.

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
from sphinx.util import logging

from .problems import Check
from .prose import Chunk, is_year, numbers, walk
from .state import get_registry

logger = logging.getLogger(__name__)

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


def _warn(env: BuildEnvironment, docname: str, line: int, msg: str, check: Check) -> None:
    logger.warning(msg, location=(docname, line), type="handbook", subtype=check.value)


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
                        _warn(env, docname, item.line,
                              f"acronym {token!r} is not defined in the glossary: add an "
                              "entry, or add it to handbook_acronym_allowlist in conf.py "
                              "with a reason", Check.ACRONYM)
                    continue
            if entry is None or is_glossary or item.in_title:
                continue
            if id(entry) not in linked and "term:" + token not in reported:
                reported.add("term:" + token)
                entry.flagged = True  # the unlinked use is the one message about it
                _warn(env, docname, item.line,
                      f"first use of glossary term {token!r} on this page is not linked: "
                      f"write {{term}}`{token}`", Check.TERM_LINK)
        for raw, value in numbers(text):
            if is_year(raw, value):
                continue
            fact_id = held.get(value)
            if fact_id is not None and value >= 10:
                _warn(env, docname, item.line,
                      f"figure {raw} is typed in prose but the registry holds it: write "
                      f"{{fact}}`{fact_id}`", Check.TYPED_FIGURE)
            elif "," in raw:
                _warn(env, docname, item.line,
                      f"figure {raw} is typed in prose without a source: add it to the fact "
                      "registry and cite it with {fact}", Check.TYPED_FIGURE)
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
                _warn(env, docname, para.line or 0,
                      f"{acr} is expanded as {got!r} here but as "
                      f"{entry.expansion!r} in the glossary: use one expansion",
                      Check.EXPANSION)


def check_glossary(app: Sphinx, env: BuildEnvironment) -> None:
    if not app.config.handbook_check_prose or not app.config.handbook_checks:
        return
    gloss = collect_glossary(env)
    glossary_docs = {e.docname for e in gloss.entries}
    allow = set(app.config.handbook_acronym_allowlist)
    held: dict[float, str] = {}
    for fact in get_registry(env).facts.values():
        if fact.number is not None:
            held.setdefault(float(fact.number), fact.id)
    for docname in sorted(env.found_docs):
        if docname in env.all_docs:
            check_page(env, docname, gloss, glossary_docs, allow, held)
    if not app.config.handbook_check_unused_terms:
        return
    for entry in gloss.entries:
        if not entry.used and not entry.flagged:
            _warn(env, entry.docname, entry.line,
                  f"glossary entry {' / '.join(entry.terms)!r} is never linked from a page: "
                  f"link it with {{term}}`{entry.terms[0]}` or remove it", Check.UNUSED_TERM)


def setup_glossary(app: Sphinx) -> None:
    app.connect("env-updated", check_glossary)
