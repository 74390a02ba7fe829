"""The ``fact`` role, the ``fact`` domain and the generated fact register.

``{fact}`id``` renders the value, its as-of date and a citation; ``{fact:value}`id``` the
value and citation; ``{fact:date}`id``` the as-of date alone.  Every rendered fact links to
its row in the register (``{fact-register}``), which lists value, as-of date, review
status, sources and the pages that use it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.domains import Domain
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxRole
from sphinx.util.nodes import make_refnode

from .dates import long_date
from .problems import Check, warn
from .registry import Fact, suggest
from .state import build_state, get_registry, registry_for_page, signature_changed, today


def anchor(fact_id: str) -> str:
    return "fact-" + nodes.make_id(fact_id)


class FactDomain(Domain):
    """Which page uses which fact, merged safely across parallel readers."""

    name = "fact"
    label = "Facts"
    initial_data: ClassVar[dict[str, Any]] = {
        "uses": {},  # docname -> list of (fact id, line)
        "registers": {},  # docname -> True: documents holding the fact register
        # what the register showed when last written (register_signature), beyond its data
        "signature": "",
    }

    @property
    def uses(self) -> dict[str, list[tuple[str, int]]]:
        return self.data["uses"]

    @property
    def registers(self) -> dict[str, bool]:
        return self.data["registers"]

    def note_use(self, docname: str, fact_id: str, line: int) -> None:
        self.uses.setdefault(docname, []).append((fact_id, line))

    def register_doc(self) -> str | None:
        return min(self.registers) if self.registers else None

    def clear_doc(self, docname: str) -> None:
        self.uses.pop(docname, None)
        self.registers.pop(docname, None)

    def merge_domaindata(self, docnames: Iterable[str], otherdata: dict[str, Any]) -> None:
        for doc in docnames:
            if doc in otherdata["uses"]:
                self.uses[doc] = list(otherdata["uses"][doc])
            if doc in otherdata["registers"]:
                self.registers[doc] = True

    def used_ids(self) -> set[str]:
        return {fid for refs in self.uses.values() for fid, _ in refs}

    def pages_using(self, fact_id: str) -> list[str]:
        return sorted(doc for doc, refs in self.uses.items() if any(f == fact_id for f, _ in refs))

    def resolve_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder,
                     typ: str, target: str, node: pending_xref, contnode: nodes.Element
                     ) -> nodes.reference | None:
        todoc = self.register_doc()
        if todoc is None:
            return contnode  # no register: plain text
        return make_refnode(builder, fromdocname, todoc, anchor(target), contnode,
                            f"Fact register: {target}")

    def resolve_any_xref(self, *args: Any, **kwargs: Any) -> list[tuple[str, nodes.reference]]:
        return []

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        return iter(())


# --------------------------------------------------------------------------- role

class FactRole(SphinxRole):
    """``{fact}`id``` (full), ``{fact:value}`id``` or ``{fact:date}`id```."""

    def __init__(self, mode: str = "full") -> None:
        self.mode = mode

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        reg = registry_for_page(self.env)
        fact_id = self.text.strip()
        domain = self.env.get_domain("fact")
        assert isinstance(domain, FactDomain)
        domain.note_use(self.env.docname, fact_id, self.lineno)
        fact = reg.facts.get(fact_id)
        if fact is None and reg.has_data_error(fact_id):
            # the data file's own message says what to fix: no second message here
            return [nodes.inline(self.rawtext, f"[fact {fact_id}: see the data error]",
                                 classes=["hb-fact", "hb-fact-unknown"])], []
        if fact is None:
            warn(Check.UNKNOWN_FACT,
                 f"unknown fact id {fact_id!r}{suggest(fact_id, reg.facts)}: add it to "
                 f"{self.config.handbook_data_dir}/facts/*.yaml or correct the id",
                 self.get_location())
            return [nodes.inline(self.rawtext, f"[unknown fact: {fact_id}]",
                                 classes=["hb-fact", "hb-fact-unknown"])], []
        return [render_fact(self, fact, self.mode, today(self.env))], []


def evidence_marks(fact: Fact) -> list[nodes.Node]:
    """The caveat and the dispute readers see beside a value: ``[unconfirmed: ...]``,
    ``[disputed: ...]``."""
    out: list[nodes.Node] = []
    for cls, text in (("hb-caveat", fact.caveat), ("hb-disputed", fact.disputed)):
        text = (text or "").strip()
        if text:
            shown = f"[disputed: {text}]" if cls == "hb-disputed" else f"[{text}]"
            out += [nodes.Text(" "), nodes.inline("", shown, classes=[cls])]
    return out


def cite_nodes(role: SphinxRole, keys: list[str]) -> list[nodes.Node]:
    """The nodes of ``{cite:p}`keys``` made by sphinxcontrib-bibtex's own role."""
    cite = role.env.get_domain("cite").role("p")
    if cite is None:  # pragma: no cover - sphinxcontrib.bibtex is a hard dependency
        return []
    text = ",".join(keys)
    made, _ = cite("cite:p", f":cite:p:`{text}`", text, role.lineno, role.inliner, {}, [])
    return list(made)


def render_fact(role: SphinxRole, fact: Fact, mode: str, now: dt.date) -> nodes.inline:
    stale = fact.is_stale(now)
    box = nodes.inline(classes=["hb-fact"] + (["hb-stale"] if stale else []))
    shown = fact.as_of.month_year() if mode == "date" else fact.value
    ref = pending_xref("", refdomain="fact", reftype="fact", reftarget=fact.id,
                       refexplicit=True, refwarn=False)
    ref += nodes.inline(shown, shown, classes=["hb-fact-value"])
    box += ref
    if mode == "full" and fact.kind == "figure":
        box += nodes.Text(f" (as of {fact.as_of.month_year()})")
    if stale:
        box += nodes.Text(" ")
        box += nodes.inline("", "[review due]", classes=["hb-stale-flag"])
    box.extend(excerpt_gone_flag(fact))
    if mode != "date":
        box.extend(evidence_marks(fact))
    if mode != "date":
        box += nodes.Text("\u00a0")
        known = [k for k in fact.sources if k in get_registry(role.env).sources]
        if known:
            box.extend(cite_nodes(role, known))
    return box


def excerpt_gone_flag(fact: Fact) -> list[nodes.Node]:
    """Beside a fact's value: a mark when ``make linkcheck`` no longer found its excerpt
    at any of its sources (a notice to readers, not a build warning)."""
    if fact.excerpt_gone is None:
        return []
    return [nodes.Text(" "), nodes.inline("", "[excerpt not found at source]",
                                          classes=["hb-excerpt-gone-flag"])]


def excerpt_gone_notice(fact: Fact) -> list[nodes.Node]:
    """In the register, under the excerpt: since when it is no longer at the source."""
    if fact.excerpt_gone is None:
        return []
    text = f"Excerpt no longer found at the source on {long_date(fact.excerpt_gone)}."
    return [nodes.paragraph("", "", nodes.inline(text, text, classes=["hb-excerpt-gone"]))]


# --------------------------------------------------------------------------- register
# The {fact-register} directive and its tables: register.py.

def register_signature(env: BuildEnvironment) -> str:
    """What the register shows beyond its data files (which its page depends on, so a
    change of them rereads it): which page uses which fact, those pages' titles, and the
    date facts are fresh or stale on."""
    domain = env.get_domain("fact")
    assert isinstance(domain, FactDomain)
    uses = sorted({(fid, doc) for doc, refs in domain.uses.items() for fid, _ in refs})
    titles = sorted((doc, env.titles[doc].astext()) for doc in {doc for _, doc in uses}
                    if doc in env.titles)
    text = json.dumps([uses, titles, today(env).isoformat()], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def register_outdated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-updated``: the register pages are written again, without being reread, when
    what they show changed since the last build (a fact use added or removed, a page
    renamed); the register is filled in when its page is written (:func:`fill_registers`)."""
    domain = env.get_domain("fact")
    assert isinstance(domain, FactDomain)
    if not signature_changed(domain.data, register_signature(env)):
        return []
    return sorted(domain.registers)


# --------------------------------------------------------------------------- checks

def fact_ids_used_by_data(env: BuildEnvironment) -> set[str]:
    """Facts consumed by generated pictures and tables (chart, chronology, diagrams)."""
    reg = get_registry(env)
    used = {f.id for f in reg.facts.values() if f.series or f.chronology}
    return used | build_state(env).data_uses


def check_unused(app: Sphinx, env: BuildEnvironment) -> None:
    domain = env.get_domain("fact")
    assert isinstance(domain, FactDomain)
    reg = get_registry(env)
    if not domain.registers and not domain.uses:
        return
    used = domain.used_ids() | fact_ids_used_by_data(env)
    for fact in sorted(reg.facts.values(), key=lambda f: (f.path, f.line)):
        if fact.id not in used:
            warn(Check.UNUSED_FACT, f"fact {fact.id!r} is never used: cite it with "
                 f"{{fact}}`{fact.id}` or remove it",
                 f"{fact.path}:{fact.lines.get('id', fact.line)}")


def on_env_updated(app: Sphinx, env: BuildEnvironment) -> None:
    if app.config.handbook_checks:
        check_unused(app, env)


def setup_facts(app: Sphinx) -> None:
    from .register import setup_register  # it imports this module

    app.add_domain(FactDomain)
    app.add_role("fact", FactRole("full"))
    app.add_role_to_domain("fact", "value", FactRole("value"))
    app.add_role_to_domain("fact", "date", FactRole("date"))
    app.connect("env-updated", register_outdated)
    app.connect("env-updated", on_env_updated)
    setup_register(app)
