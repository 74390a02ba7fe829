"""The edition page: which edition this is, what it holds and how to cite it.

- ``{edition-summary}``: the edition (``version``, from ``SOURCE_DATE_EPOCH``), the commit it
  was built from (``handbook_commit``, read once in ``conf.py``; "unknown" when empty), and
  the counts of facts (by best source's standing) and of sources (by standing), from the data.
- ``{cite-handbook}``: the handbook's citation in BibTeX and in an APA-like plain style,
  from ``CITATION.cff`` (``handbook_citation_file``) and the build's edition date, so the
  page and the file cannot drift apart.

Pages using either directive, or ``{edition-changes}`` (:mod:`.changes`), are read again on
every build: they show the commit and the tags, which no file dependency tracks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.domains import Domain
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .dates import long_date
from .publishers import STANDINGS, standing_counts
from .state import get_publishers, registry_for_page

logger = logging.getLogger(__name__)


class EditionDomain(Domain):
    """Which documents show edition data (read again on every build)."""

    name = "edition"
    label = "Edition"
    initial_data: ClassVar[dict[str, Any]] = {"docs": {}}

    def note(self, docname: str) -> None:
        self.data["docs"][docname] = True

    def clear_doc(self, docname: str) -> None:
        self.data["docs"].pop(docname, None)

    def merge_domaindata(self, docnames: Iterable[str], otherdata: dict[str, Any]) -> None:
        for doc in docnames:
            if doc in otherdata["docs"]:
                self.data["docs"][doc] = True

    def resolve_any_xref(self, *args: Any, **kwargs: Any) -> list[tuple[str, nodes.reference]]:
        return []


def note_edition_doc(env: BuildEnvironment) -> None:
    domain = env.get_domain("edition")
    assert isinstance(domain, EditionDomain)
    domain.note(env.docname)


def always_outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                    removed: set[str]) -> list[str]:
    domain = env.get_domain("edition")
    assert isinstance(domain, EditionDomain)
    return sorted(d for d in domain.data["docs"] if d not in removed)


def edition_date(env: BuildEnvironment) -> dt.date:
    """The edition's date: the build's ``version`` (YYYY.MM.DD), else the reference date."""
    try:
        return dt.datetime.strptime(str(env.config.version), "%Y.%m.%d").date()
    except ValueError:
        from .state import today

        return today(env)


def commit_text(env: BuildEnvironment) -> str:
    return str(env.config.handbook_commit).strip() or "unknown"


def _field(name: str, *body: nodes.Node) -> nodes.field:
    return nodes.field("", nodes.field_name(text=name), nodes.field_body("", *body))


def _counts(label: str, total: int, counts: dict[str, int]) -> nodes.paragraph:
    order = [*STANDINGS, "unknown"]
    parts = [f"{counts.get(s, 0)} {s}" for s in order if counts.get(s, 0) or s != "unknown"]
    return nodes.paragraph(text=f"{total} {label}: " + ", ".join(parts))


class EditionSummaryDirective(SphinxDirective):
    """The edition, commit and counts as a field list; ``:brief:`` one sentence of the
    edition and commit (for the front matter)."""

    has_content = False
    option_spec = {"brief": directives.flag}

    def run(self) -> list[nodes.Node]:
        note_edition_doc(self.env)
        reg = registry_for_page(self.env)
        pubs = get_publishers(self.env)
        day = edition_date(self.env)
        if "brief" in self.options:
            para = nodes.paragraph(classes=["hb-edition", "hb-no-check"])
            para += nodes.strong(text="This edition: ")
            para += nodes.Text(f"{self.config.version or day.isoformat()} "
                               f"({long_date(day)}), built from commit ")
            para += nodes.literal(text=commit_text(self.env)[:12])
            para += nodes.Text(".")
            return [para]
        fields = nodes.field_list(classes=["hb-edition", "hb-no-check"])  # generated
        fields += _field("Edition", nodes.paragraph(
            text=f"{self.config.version or day.isoformat()} ({long_date(day)})"))
        fields += _field("Built from commit", nodes.paragraph(
            "", "", nodes.literal(text=commit_text(self.env))))
        if pubs is None:
            fields += _field("Facts", nodes.paragraph(text=str(len(reg.facts))))
            fields += _field("Sources", nodes.paragraph(text=str(len(reg.sources))))
        else:
            sources, facts = standing_counts(reg, pubs)
            fields += _field("Facts", _counts("facts, by the standing of their best source",
                                              len(reg.facts), facts))
            fields += _field("Sources", _counts("sources, by standing", len(reg.sources),
                                                sources))
        return [fields]


# --------------------------------------------------------------------------- citation

def load_citation(path: Path) -> dict[str, Any]:
    """CITATION.cff as a mapping (empty when the file is missing or not a mapping)."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def author_names(cff: dict[str, Any]) -> list[str]:
    names = []
    for person in cff.get("authors") or []:
        if not isinstance(person, dict):
            continue
        name = person.get("name") or " ".join(
            str(person[k]) for k in ("given-names", "family-names") if person.get(k))
        if name:
            names.append(str(name))
    return names


def citation_texts(cff: dict[str, Any], version: str, day: dt.date, commit: str
                   ) -> tuple[str, str]:
    """(plain APA-like text, BibTeX entry) for one edition."""
    raw = cff.get("preferred-citation")
    pref: dict[str, Any] = raw if isinstance(raw, dict) else {}
    title = str(pref.get("title") or cff.get("title") or "")
    authors = author_names(pref) or author_names(cff)
    url = str(pref.get("url") or cff.get("url") or "")
    licence = str(cff.get("license") or "")
    who = ", ".join(authors)
    plain = f"{who}. ({day.year}). {title} (edition {version})."
    if url:
        plain += f" {url}"
    note = [f"Edition of {long_date(day)}"]
    if commit != "unknown":
        note.append(f"commit {commit[:12]}")
    if licence:
        note.append(f"licence {licence}")
    bib = [f"@book{{iraqhandbook{version.replace('.', '')},",
           f"  title   = {{{title}}},",
           "  author  = {" + " and ".join(f"{{{a}}}" for a in authors) + "},",
           f"  year    = {{{day.year}}},",
           f"  month   = {{{day.month}}},",
           f"  edition = {{{version}}},"]
    if url:
        bib.append(f"  url     = {{{url}}},")
    bib += [f"  note    = {{{'; '.join(note)}}},", "}"]
    return plain, "\n".join(bib)


class CiteHandbookDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        note_edition_doc(self.env)
        path = Path(self.env.srcdir, self.config.handbook_citation_file)
        self.env.note_dependency(str(path))
        cff = load_citation(path)
        if not cff:  # a copy of docs/ alone: cite it from conf.py's project and author
            logger.info(f"no citation metadata at {path}: citing project and author")
            cff = {"title": self.config.project, "authors": [{"name": self.config.author}]}
        day = edition_date(self.env)
        plain, bib = citation_texts(cff, str(self.config.version or day.isoformat()), day,
                                    commit_text(self.env))
        box = nodes.container(classes=["hb-citation", "hb-no-check"])  # generated
        box += nodes.paragraph(text="In a reference list:")
        title = str(cff.get("title", ""))
        before, found, after = plain.partition(f" {title} ") if title else (plain, "", "")
        quote = nodes.paragraph()
        if found:  # the title in italics, as author-date styles set it
            quote += [nodes.Text(before + " "), nodes.emphasis(text=title),
                      nodes.Text(" " + after)]
        else:
            quote += nodes.Text(plain)
        box += nodes.block_quote("", quote)
        box += nodes.paragraph(text="In BibTeX:")
        box += nodes.literal_block(bib, bib, language="bibtex")
        return [box]


def setup_edition(app: Sphinx) -> None:
    app.add_config_value("handbook_commit", "", "env", str)
    app.add_config_value("handbook_citation_file", "../CITATION.cff", "env", str)
    app.add_domain(EditionDomain)
    app.add_directive("edition-summary", EditionSummaryDirective)
    app.add_directive("cite-handbook", CiteHandbookDirective)
    app.connect("env-get-outdated", always_outdated)
