"""One type for every problem the checks find, shared by the Sphinx extension and the CLI,
and the one way the extension reports one: :func:`warn` (as MyST-Parser's ``warnings_``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: the type of every warning the extension emits; the subtype is the :class:`Check`
WARNING_TYPE = "handbook"


class Check(StrEnum):
    """The kinds of problem, one per check; the Sphinx warning subtype is the value.

    ``suppress_warnings = ["handbook.stale"]`` silences one kind in a build.
    """

    YAML = "yaml"  #: a data file is not valid YAML (or uses an explicit tag such as !!int)
    SCHEMA = "schema"  #: wrong type, unknown or missing field, bad date
    DUPLICATE = "duplicate"  #: an id (fact, source, mission, scenario) defined twice
    SOURCE = "source"  #: fact without a source, or citing an unknown source key
    BIB = "bib"  #: malformed or incomplete source entry
    DEAD_LINK = "dead-link"  #: a source whose URL was reported dead has no archived copy
    PUBLISHER = "publisher"  #: a source whose publisher (or ``original``) is not registered
    DEPRECATED_ONLY = "deprecated-only"  #: a fact resting only on deprecated outlets
    WEAK_ONLY = "weak-only"  #: a fact resting only on weak sources, without a caveat
    DISPUTED = "disputed"  #: an empty 'disputed' field (readers see it beside the value)
    UNKNOWN_FACT = "unknown-fact"  #: a page cites a fact id the registry lacks
    UNUSED_FACT = "unused-fact"  #: a fact no page, chart or table uses
    REGISTER = "register"  #: the register's sections: a fact file without one, or unknown
    STALE = "stale"  #: a fact past its review date
    TYPED_FIGURE = "typed-figure"  #: a figure typed in prose that the registry holds
    ACRONYM = "acronym"  #: an acronym the glossary does not define
    TERM_LINK = "term-link"  #: first use of a glossary term on a page is not linked
    UNUSED_TERM = "unused-term"  #: a glossary term no page links to
    EXPANSION = "expansion"  #: an acronym expanded in two different ways
    MISSION = "mission"  #: missions out of order, overlapping, unknown transition
    SCENARIO = "scenario"  #: scenarios data without a starting point, or nothing to draw
    MERMAID = "mermaid"  #: a diagram mermaid cannot render, or one without a text alternative
    LINK = "link"  #: an internal link to a missing page or anchor in the built HTML
    ENCODING = "encoding"  #: a page that is not UTF-8
    FENCE = "fence"  #: a code or directive fence opened and never closed
    LATEX = "latex"  #: markup that would break the PDF, or where LaTeX failed
    INVISIBLE = "invisible"  #: an invisible or bidirectional control character in a file
    PURGE_CSS = "purge-css"  #: the stylesheets could not be cut (PurgeCSS missing or failing)


@dataclass(frozen=True, order=True)
class Problem:
    """A problem at a place: ``path:line: message (check)``."""

    path: str
    line: int
    message: str
    check: Check | str  #: one of ours, or the type of a Sphinx warning ("ref.doc", "bibtex")

    @property
    def kind(self) -> str:
        return self.check.value if isinstance(self.check, Check) else self.check

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message} ({self.kind})"

    @property
    def location(self) -> str:
        """The ``path:line`` string Sphinx prints verbatim in a warning."""
        return f"{self.path}:{self.line}"


def warn(check: Check | str, message: str, location: Any) -> None:
    """Emit one problem as a Sphinx warning ``type="handbook", subtype=check``.

    ``location``: a ``path:line`` string (a data file's place, as :attr:`Problem.location`),
    a ``(docname, line)`` pair or a node, as Sphinx's logger takes them."""
    from sphinx.util import logging  # here: the CLI imports this module without Sphinx

    logging.getLogger(__name__).warning(message, location=location, type=WARNING_TYPE,
                                        subtype=str(check))
