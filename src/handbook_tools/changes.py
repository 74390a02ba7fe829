"""What changed in the fact register since the previous edition: ``{edition-changes}``.

An edition is a git tag matching ``handbook_release_tags`` (``v[0-9]*``: ``v2026.12.03``,
the edition's ``version`` with a ``v``).  The previous edition is the highest such tag (by
version order) that is an ancestor of ``HEAD`` and does not point at ``HEAD`` itself, so a
build of a tagged release compares with the release before it.  Its fact files are read
with ``git show TAG:path`` and loaded by the registry's own loader; the list gives the facts
added, removed, whose value or date changed, and newly past review (past it on the
edition's reference date, not on the tag's commit date).  Outside a git checkout, or
without an earlier tag, it says so in one sentence; it never fails the build.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .edition import note_edition_doc
from .registry import Fact, Registry, load_registry
from .state import data_dir, registry_for_page, today

FIRST_EDITION = "This is the first tagged edition; no earlier edition to compare with."
NO_GIT = ("This copy was not built from a git checkout, so there is no earlier edition to "
          "compare with.")


def git(cwd: Path, *args: str) -> str | None:
    """A git command's output, or None when git or the repository is missing."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def previous_tag(cwd: Path, pattern: str) -> str | None:
    here = git(cwd, "tag", "--points-at", "HEAD", "--list", pattern) or ""
    tags = git(cwd, "tag", "--merged", "HEAD", "--list", pattern, "--sort=-v:refname") or ""
    skip = set(here.split())
    return next((t for t in tags.split() if t not in skip), None)


def registry_at(cwd: Path, tag: str, facts_dir: Path) -> Registry:
    """The fact register as the tag had it (sources are not needed: none is loaded)."""
    top = Path((git(cwd, "rev-parse", "--show-toplevel") or "").strip())
    rel = facts_dir.resolve().relative_to(top.resolve()).as_posix()
    names = (git(cwd, "ls-tree", "-r", "--name-only", tag, "--", rel) or "").split()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "facts").mkdir()
        for name in names:
            if name.endswith(".yaml"):
                text = git(top, "show", f"{tag}:{name}") or ""
                (Path(tmp) / "facts" / Path(name).name).write_text(text, encoding="utf-8")
        return load_registry(Path(tmp), [])


@dataclass
class Changes:
    added: list[Fact] = field(default_factory=list)
    changed: list[tuple[Fact, Fact]] = field(default_factory=list)  # (old, new)
    removed: list[Fact] = field(default_factory=list)
    newly_stale: list[Fact] = field(default_factory=list)


def compare(old: Registry, new: Registry, then: dt.date, now: dt.date) -> Changes:
    out = Changes()
    for fid in sorted(set(old.facts) | set(new.facts)):
        before, after = old.facts.get(fid), new.facts.get(fid)
        if before is None and after is not None:
            out.added.append(after)
        elif after is None and before is not None:
            out.removed.append(before)
        elif before is not None and after is not None and (
                (str(before.value), before.as_of) != (str(after.value), after.as_of)):
            out.changed.append((before, after))
        if after is not None and after.is_stale(now) and not (
                before is not None and before.is_stale(then)):
            out.newly_stale.append(after)
    return out


def _ref(fid: str) -> pending_xref:
    ref = pending_xref("", refdomain="fact", reftype="value", reftarget=fid,
                       refexplicit=True, refwarn=False)
    ref += nodes.literal(fid, fid)
    return ref


def _shown(fact: Fact) -> str:
    return f"{fact.value} (as of {fact.as_of.long()})"


def render(changes: Changes, tag: str, then: dt.date) -> list[nodes.Node]:
    out: list[nodes.Node] = [nodes.paragraph(
        text=f"Compared with the edition tagged {tag} ({then.isoformat()}):")]
    groups: list[tuple[str, list[tuple[str, str]]]] = [
        ("Added", [(f.id, _shown(f)) for f in changes.added]),
        ("Value or date changed", [(n.id, f"{_shown(o)} \u2192 {_shown(n)}")
                                   for o, n in changes.changed]),
        ("Removed", [(f.id, _shown(f)) for f in changes.removed]),
        ("Newly past review", [(f.id, f"review was due by {f.review_by}")
                               for f in changes.newly_stale]),
    ]
    if not any(items for _, items in groups):
        out.append(nodes.paragraph(text="No fact was added, changed or removed."))
        return out
    for label, items in groups:
        if not items:
            continue
        out.append(nodes.paragraph("", "", nodes.strong(text=f"{label} ({len(items)})")))
        bullets = nodes.bullet_list(classes=["hb-changes"])
        for fid, text in items:
            # removed facts are not in the register: no link
            head = nodes.literal(fid, fid) if label == "Removed" else _ref(fid)
            bullets += nodes.list_item("", nodes.paragraph("", "", head, nodes.Text(": " + text)))
        out.append(bullets)
    return out


class EditionChangesDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        note_edition_doc(self.env)
        new = registry_for_page(self.env)
        cwd = Path(self.env.srcdir)
        if git(cwd, "rev-parse", "HEAD") is None:
            return [nodes.paragraph(text=NO_GIT)]
        tag = previous_tag(cwd, self.config.handbook_release_tags)
        if tag is None:
            return [nodes.paragraph(text=FIRST_EDITION)]
        try:
            then = dt.date.fromisoformat((git(cwd, "log", "-1", "--format=%cs", tag) or "")
                                         .strip())
            old = registry_at(cwd, tag, data_dir(self.env) / "facts")
        except (ValueError, OSError):  # the data folder is outside the repository
            return [nodes.paragraph(text=f"The previous edition, {tag}, could not be read.")]
        box = nodes.container(classes=["hb-changes", "hb-no-check"])  # generated: no checks
        box.extend(render(compare(old, new, then, today(self.env)), tag, then))
        return [box]


def setup_changes(app: Sphinx) -> None:
    app.add_config_value("handbook_release_tags", "v[0-9]*", "env", str)
    app.add_directive("edition-changes", EditionChangesDirective)
