"""Citations of dead links fall back to their archived copy.

``make linkcheck`` records what it found at each source URL in ``<data>/link-status.yaml``
(``python -m handbook_tools linkcheck --write``; see :mod:`handbook_tools.sourcecheck`);
the file is committed, so builds stay offline and reproducible.  The registry attaches a
``dead`` record (a definite failure confirmed on two days; never a network fault) to its
source (:attr:`handbook_tools.bibfile.Source.dead`) and reports a dead source that has no
``archiveurl`` at its ``.bib`` line.

Here the bibliography style named by ``bibtex_default_style`` (``plain`` in the handbook)
is replaced, when the configuration is read, by a subclass registered under
``handbook-<name>``: a dead source still shows its URL (so the next link check sees it
again) with "link reported dead on DATE", then "Archived copy:" and its ``archiveurl``.
Live sources render as the base style renders them, except that titles keep the capitals
they are typed with (the base style lower-cases all but the first letter), and ``\\$`` and
``\\textasciicircum{}``, which pybtex's decoder (latexcodec) leaves as typed, show as ``$``
and ``^`` (headlines carry sums of money: "\\$901 billion").  With a
publisher register (``<data>/publishers.yaml``), each entry ends with its publisher and
standing: "Publisher: Reuters. Standing: major." ("Yahoo News, repost of Al Jazeera" for a
repost).
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from pybtex.plugin import find_plugin, register_plugin
from pybtex.richtext import Tag, Text
from pybtex.style import FormattedEntry
from pybtex.style.template import field, href, join, optional, sentence, words
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment

from .linkstatus import LINK_STATUS
from .publishers import PUBLISHERS, Attribution
from .registry import Registry
from .state import data_dir

GROUP = "pybtex.style.formatting"
#: BibTeX escapes that pybtex's decoder leaves as typed: ``\\$`` and ``\\textasciicircum{}``
_UNDECODED = re.compile(r"\\(\$)|\\textasciicircum(?:\{\}| )?")


def readable(entry: Any) -> Any:
    """The entry with those escapes written as the characters they stand for (a copy: the
    parsed bibliography is shared)."""
    if not any(_UNDECODED.search(v) for v in entry.fields.values()):
        return entry
    made = copy.copy(entry)
    made.fields = type(entry.fields)((k, _UNDECODED.sub(lambda m: m[1] or "^", v))
                                     for k, v in entry.fields.items())
    return made


PREFIX = "handbook-"

#: source key -> the date (text) its URL was reported dead; set at the start of each build
DEAD: dict[str, str] = {}
#: source key -> (who published it, its standing); set at the start of each build
STANDING: dict[str, tuple[str, str]] = {}


def archive_style(base_name: str) -> str:
    """Register (once) the archive-aware subclass of a pybtex style; return its name."""
    if base_name.startswith(PREFIX):
        return base_name
    name = PREFIX + base_name
    base: Any = find_plugin(GROUP, base_name)

    class ArchiveStyle(base):
        def format_entry(self, label: str, entry: Any, bib_data: Any = None) -> Any:
            made = super().format_entry(label, readable(entry), bib_data=bib_data)
            mark = STANDING.get(entry.key)
            if mark is None:
                return made
            who, standing = mark
            text = Text(made.text, f" Publisher: {who}. Standing: ", Tag("em", standing), ".")
            return FormattedEntry(made.key, text, made.label)

        def format_title(self, e: Any, which_field: str, as_sentence: bool = True) -> Any:
            # the base style lower-cases titles ("Us task force ... isis in iraq"): a news
            # headline's capitals (US, ISIS, Iraq) are part of it, so keep them as typed
            title = field(which_field)
            return sentence[title] if as_sentence else title

        def format_web_refs(self, e: Any) -> Any:
            checked = DEAD.get(e.key)
            if checked is None:
                return super().format_web_refs(e)
            url = field("url", raw=True)
            dead = words["URL:", href(url)[url],
                         join["(", optional[join["visited on ", field("urldate"), "; "]],
                              Text(f"link reported dead on {checked}"), ")"]]
            if not e.fields.get("archiveurl"):
                return sentence[dead]
            archive = field("archiveurl", raw=True)
            return join(sep=" ")[sentence[dead],
                                 sentence[words["Archived copy:", href(archive)[archive]]]]

    ArchiveStyle.__name__ = ArchiveStyle.__qualname__ = f"ArchiveStyle_{base_name}"
    register_plugin(GROUP, name, ArchiveStyle)
    return name


def use_archive_style(app: Sphinx, config: Config) -> None:
    config.bibtex_default_style = archive_style(config.bibtex_default_style)


def note_sources(reg: Registry, atts: dict[str, Attribution]) -> None:
    """The marks of this build's sources (called by state.load_data once the data files
    are loaded): which are dead, who published each."""
    DEAD.clear()
    DEAD.update({key: src.dead.checked_text for key, src in reg.sources.items() if src.dead})
    STANDING.clear()
    STANDING.update({key: (att.who(), att.standing) for key, att in atts.items()})


def outdated_bibliographies(app: Sphinx, env: BuildEnvironment, added: set[str],
                            changed: set[str], removed: set[str]) -> list[str]:
    """Pages with a bibliography are rewritten when the link status file or the publisher
    register changes."""
    digest = ""
    for name in (LINK_STATUS, PUBLISHERS):
        path = data_dir(env) / name
        digest += hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"
    old = getattr(env, "_handbook_link_status", None)
    env._handbook_link_status = digest  # type: ignore[attr-defined]
    if old is None or old == digest:
        return []
    bibliographies = env.get_domain("cite").bibliographies  # type: ignore[attr-defined]
    return sorted({key.docname for key in bibliographies} - removed)


def setup_bibstyle(app: Sphinx) -> None:
    app.connect("config-inited", use_archive_style)
    app.connect("env-get-outdated", outdated_bibliographies)
