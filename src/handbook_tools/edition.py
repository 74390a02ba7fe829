"""The edition page: which edition this is, what it holds and how to cite it.

- ``{edition-summary}``: the edition (``version``, from ``SOURCE_DATE_EPOCH``), the commit it
  was built from (``handbook_commit``, read once in ``conf.py``; "unknown" when empty), and
  the counts of facts (by best source's standing) and of sources (by standing), from the data.
- ``{cite-handbook}``: the handbook's citation in BibTeX and in an APA-like plain style,
  from ``CITATION.cff`` (``handbook_citation_file``) and the build's edition date, so the
  page and the file cannot drift apart.

- ``{edition-frontmatter}``: on the web, the one sentence of ``:brief:``; in the PDF, the
  whole edition summary, the licence and the citation (the same nodes as the two
  directives above make), set on the back of the title page, before the contents
  (:func:`front_matter`, and :class:`~.latex.HandbookLaTeXTranslator` moves it there).

Pages using these directives, or ``{edition-changes}`` (:mod:`.changes`), are read again
when the commit, the tags or the reference date changed (:func:`git_signature`): no file
dependency tracks them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains import Domain
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .dates import long_date
from .downloads import LICENCE_URL
from .latex import FRONT_MATTER
from .publishers import STANDINGS, standing_counts
from .state import get_publishers, registry_for_page, signature_changed

logger = logging.getLogger(__name__)

#: the licence of the text and data, as the edition page and the PDF name it
LICENCE_NAME = "CC BY 4.0"


class EditionDomain(Domain):
    """Which documents show edition data (read again when the commit or the tags change)."""

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


def git_signature(env: BuildEnvironment) -> str:
    """What the edition pages show that no file dependency tracks: the commit, the tags
    (the previous edition) and the reference date (newly past review)."""
    from .state import today

    out = [today(env).isoformat()]
    for args in (("rev-parse", "HEAD"),
                 ("for-each-ref", "--format=%(refname) %(objectname)", "refs/tags")):
        try:
            done = subprocess.run(["git", *args], cwd=env.srcdir, capture_output=True,
                                  text=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            out.append("-")
            continue
        out.append(done.stdout if done.returncode == 0 else "-")
    return hashlib.sha256("\0".join(out).encode("utf-8")).hexdigest()


def always_outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                    removed: set[str]) -> list[str]:
    """The edition pages are read again when the commit, a tag or the reference date
    changed since the last build (their data files are dependencies of their own)."""
    domain = env.get_domain("edition")
    assert isinstance(domain, EditionDomain)
    if not signature_changed(domain.data, git_signature(env)):
        return []
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


def search_horizon_text(env: BuildEnvironment) -> str | None:
    """``handbook_search_horizon`` as a long date ('3 December 2026'); None when unset or
    not a date (the ``{search-horizon}`` role reports that)."""
    try:
        return long_date(dt.date.fromisoformat(str(env.config.handbook_search_horizon).strip()))
    except ValueError:
        return None


def brief_summary(env: BuildEnvironment) -> nodes.paragraph:
    """One sentence: the edition and the commit."""
    day = edition_date(env)
    para = nodes.paragraph(classes=["hb-edition", "hb-no-check"])
    para += nodes.strong(text="This edition: ")
    para += nodes.Text(f"{env.config.version or day.isoformat()} "
                       f"({long_date(day)}), built from commit ")
    para += nodes.literal(text=commit_text(env)[:12])
    para += nodes.Text(".")
    return para


def summary_fields(env: BuildEnvironment) -> nodes.field_list:
    """The edition, commit, search horizon, counts and licence, as a field list."""
    reg = registry_for_page(env)
    pubs = get_publishers(env)
    day = edition_date(env)
    fields = nodes.field_list(classes=["hb-edition", "hb-no-check"])  # generated
    fields += _field("Edition", nodes.paragraph(
        text=f"{env.config.version or day.isoformat()} ({long_date(day)})"))
    fields += _field("Built from commit", nodes.paragraph(
        "", "", nodes.literal(text=commit_text(env))))
    horizon = search_horizon_text(env)
    if horizon:
        fields += _field("Sources searched up to", nodes.paragraph(
            text=f"{horizon}; nothing published after that day is in this edition"))
    if pubs is None:
        fields += _field("Facts", nodes.paragraph(text=str(len(reg.facts))))
        fields += _field("Sources", nodes.paragraph(text=str(len(reg.sources))))
    else:
        sources, facts = standing_counts(reg, pubs)
        fields += _field("Facts", _counts("facts, by the standing of their best source",
                                          len(reg.facts), facts))
        fields += _field("Sources", _counts("sources, by standing", len(reg.sources),
                                            sources))
    licence = nodes.paragraph(text=f"text and data {LICENCE_NAME} (")
    licence += nodes.reference(LICENCE_URL, LICENCE_URL, refuri=LICENCE_URL)
    licence += nodes.Text("); the code that builds the book MIT")
    fields += _field("Licence", licence)
    return fields


class EditionSummaryDirective(SphinxDirective):
    """The edition, commit, search horizon, counts and licence as a field list;
    ``:brief:`` one sentence of the edition and commit."""

    has_content = False
    option_spec = {"brief": directives.flag}

    def run(self) -> list[nodes.Node]:
        note_edition_doc(self.env)
        if "brief" in self.options:
            return [brief_summary(self.env)]
        return [summary_fields(self.env)]


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


def citation_box(env: BuildEnvironment) -> nodes.container:
    """The handbook's citation, in a reference list's style and in BibTeX."""
    path = Path(env.srcdir, env.config.handbook_citation_file)
    if path.is_file():  # (a missing file would be a dependency that never exists)
        env.note_dependency(str(path))
    cff = load_citation(path)
    if not cff:  # a copy of docs/ alone: cite it from conf.py's project and author
        logger.info(f"no citation metadata at {path}: citing project and author")
        cff = {"title": env.config.project, "authors": [{"name": env.config.author}]}
    day = edition_date(env)
    plain, bib = citation_texts(cff, str(env.config.version or day.isoformat()), day,
                                commit_text(env))
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
    return box


class CiteHandbookDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        note_edition_doc(self.env)
        return [citation_box(self.env)]


def front_matter(env: BuildEnvironment, details: str | None) -> nodes.container:
    """The PDF's edition page: the summary, licence and citation, as the edition page has
    them; ``details``: the label of the edition page, named for the rest."""
    box = nodes.container(classes=[FRONT_MATTER, "hb-no-check"])
    box += nodes.rubric(text="About this edition")
    box += summary_fields(env)
    box += nodes.paragraph(text="How to cite this handbook, with the edition you read:")
    box += citation_box(env)
    if details:
        para = nodes.paragraph(text="The data downloads, the licence in full and what "
                                    "changed since the previous edition: ")
        ref = addnodes.pending_xref("", nodes.inline(text="About this edition"),
                                    refdomain="std", reftype="ref", reftarget=details,
                                    refexplicit=True, refwarn=True, refdoc=env.docname)
        para += [ref, nodes.Text(", in the Reference chapter.")]
        box += para
    return box


class EditionFrontMatterDirective(SphinxDirective):
    """The brief sentence on the web and in the EPUB; the whole edition summary and the
    citation at the front of the PDF (``:details:`` the edition page's label)."""

    has_content = False
    option_spec = {"details": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        note_edition_doc(self.env)
        web = addnodes.only(expr="not latex")
        web += brief_summary(self.env)
        pdf = addnodes.only(expr="latex")
        pdf += front_matter(self.env, self.options.get("details", "").strip() or None)
        self.set_source_info(web)
        self.set_source_info(pdf)
        return [web, pdf]


def setup_edition(app: Sphinx) -> None:
    app.add_config_value("handbook_commit", "", "env", str)
    app.add_config_value("handbook_citation_file", "../CITATION.cff", "env", str)
    app.add_domain(EditionDomain)
    app.add_directive("edition-summary", EditionSummaryDirective)
    app.add_directive("cite-handbook", CiteHandbookDirective)
    app.add_directive("edition-frontmatter", EditionFrontMatterDirective)
    app.connect("env-get-outdated", always_outdated)
