"""Incremental HTML builds find what a fresh build finds (issue 17).

The checks and generated pages no longer reread every page on every build: the glossary
checks and the diagram collection use what was recorded when each page was read, and the
fact register is written again only when what it shows changed.  Each test builds a small
project, changes one thing, and rebuilds with the same environment (``freshenv=False``):

- a problem added to one page in the second build is still reported;
- a glossary entry added in the second build is checked against pages that were NOT
  reread (their recorded prose);
- the problems of unchanged pages are reported again on a rebuild with no change;
- the register's "Used on" column follows a fact use added or removed and a page renamed,
  and a rebuild with no change does not write the register again;
- a diagram added in the second build is rendered, and a diagram's missing text
  alternative is reported on every build;
- the edition page is read again when a tag or the commit changes, and only then;
- the steps over the built site that read only the files a build rewrote (the built-link
  check, the stylesheet cut, the pre-compressed copies) find what a fresh build finds: a
  broken link added to one page, an id removed that an unchanged page links to, a class
  of the theme's stylesheet that only the edited page uses.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import brotli

from conftest import ROOTS, Built, picture
from test_corpus import used_on
from test_edition import EDITION_PAGE, _git


def project(dest: Path, pages: dict[str, str]) -> Path:
    """test-clean with more PAGES (name -> Markdown) in its table of contents."""
    shutil.copytree(ROOTS / "test-clean", dest)
    for name, text in pages.items():
        (dest / f"{name}.md").write_text(text, encoding="utf-8")
    index = dest / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "sources\n```", "sources\n" + "\n".join(pages) + "\n```"), encoding="utf-8")
    return dest


def read_pages(built: Built) -> list[str]:
    """The pages a build read (Sphinx's status lines)."""
    return re.findall(r"reading sources\.\.\. \[\s*\d+%\] (\S+)", built.status)


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def test_undefined_acronym_added_to_one_page_fails_the_rebuild(tmp_path: Path, build) -> None:
    src = project(tmp_path / "p", {"p1": "# Page one\n\nPlain prose.\n",
                                   "p2": "# Page two\n\nMore plain prose.\n"})
    assert build(src).messages() == []
    append(src / "p2.md", "\nThe QXZ arrived in 2004.\n")
    expected = ["p2.md:5: acronym 'QXZ' is not defined in the glossary: add an entry, or add "
                "it to handbook_acronym_allowlist in conf.py with a reason (acronym)"]
    again = build(src, freshenv=False)
    assert read_pages(again) == ["p2"]
    assert again.messages() == expected
    # nothing changed: the page is not read again, its problem is still reported
    third = build(src, freshenv=False)
    assert read_pages(third) == []
    assert third.messages() == expected
    # the rewritten page's pre-compressed copy is of its new bytes
    page = third.outdir / "p2.html"
    assert b"QXZ" in page.read_bytes()
    assert brotli.decompress((third.outdir / "p2.html.br").read_bytes()) == page.read_bytes()


def test_broken_built_link_added_in_a_rebuild_fails_it(tmp_path: Path, build) -> None:
    """The built-link check parses only the pages a build rewrote: a broken link added to
    one page is reported, as is a link of a page NOT rewritten to an id that an edit of
    another page removed; and both again on a rebuild with no change."""
    src = project(tmp_path / "p", {
        "p1": '# Page one\n\nSee <a href="p2.html#kept">the kept part</a>.\n',
        "p2": '# Page two\n\n<span id="kept">Kept.</span> Plain prose.\n'})
    assert build(src).messages() == []
    append(src / "p2.md", '\nSee <a href="missing.html">the missing page</a>.\n')
    again = build(src, freshenv=False)
    assert read_pages(again) == ["p2"]
    expected = ["p2.md:5: broken internal link 'missing.html' in p2.html: no such file "
                "(link)"]
    assert again.messages() == expected
    (src / "p2.md").write_text("# Page two\n\nPlain prose, the span gone.\n",
                               encoding="utf-8")
    third = build(src, freshenv=False)
    assert read_pages(third) == ["p2"]
    expected = ["p1.md:3: broken internal link 'p2.html#kept' in p1.html: no element with id "
                "'kept' (link)"]
    assert third.messages() == expected
    assert build(src, freshenv=False).messages() == expected


def test_class_new_on_the_edited_page_keeps_its_rule(tmp_path: Path, build) -> None:
    """The stylesheet cut reads only the pages a build rewrote: a class of the theme's
    stylesheet that only the edited page uses keeps its rule in the cut, and loses it
    when the page drops it again."""
    src = project(tmp_path / "p", {"p1": "# Page one\n\nPlain prose.\n",
                                   "p2": "# Page two\n\nMore plain prose.\n"})
    first = build(src)
    assert first.messages() == []
    css = first.outdir / "_static" / "basic.css"
    assert ".viewcode-block" not in css.read_text(encoding="utf-8")
    append(src / "p2.md", '\n<span class="viewcode-block">Code.</span>\n')
    again = build(src, freshenv=False)
    assert read_pages(again) == ["p2"] and again.messages() == []
    assert ".viewcode-block" in css.read_text(encoding="utf-8")
    assert brotli.decompress(css.with_name(css.name + ".br").read_bytes()) == css.read_bytes()
    (src / "p2.md").write_text("# Page two\n\nMore plain prose.\n", encoding="utf-8")
    third = build(src, freshenv=False)
    assert read_pages(third) == ["p2"]
    assert ".viewcode-block" not in css.read_text(encoding="utf-8")


def test_new_glossary_entry_is_checked_on_pages_not_reread(tmp_path: Path, build) -> None:
    """A term added to the glossary makes an unchanged page's plain use of it an unlinked
    use: the page is not reread, its recorded prose is checked against the new glossary."""
    src = project(tmp_path / "p", {"p1": "# Page one\n\nThe Coalition left in 2011.\n"})
    assert build(src).messages() == []
    glossary = src / "glossary.md"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace(
        "```\n", "\nCoalition\n  **Coalition forces**. The states that sent troops.\n```\n"),
        encoding="utf-8")
    again = build(src, freshenv=False)
    assert again.messages() == [
        "p1.md:3: first use of glossary term 'Coalition' on this page is not linked: write "
        "{term}`Coalition` (term-link)"]
    (src / "p1.md").write_text("# Page one\n\nThe {term}`Coalition` left in 2011.\n",
                               encoding="utf-8")
    assert build(src, freshenv=False).messages() == []


def test_glossary_checks_of_unchanged_pages_are_kept_and_used_terms_follow_edits(
        tmp_path: Path, build) -> None:
    """The glossary checks run again only for the pages whose record changed: an
    unchanged page's problem is still reported when another page is edited, and a term
    that only the edited page linked becomes "never linked" when the link goes."""
    src = project(tmp_path / "p", {
        "p1": "# Page one\n\nThe QXZ arrived in 2004.\n",
        "p2": "# Page two\n\nThe {term}`Coalition` grew.\n"})
    glossary = src / "glossary.md"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace(
        "```\n", "\nCoalition\n  **Coalition forces**. The states that sent troops.\n```\n"),
        encoding="utf-8")
    qxz = ("p1.md:3: acronym 'QXZ' is not defined in the glossary: add an entry, or add it "
           "to handbook_acronym_allowlist in conf.py with a reason (acronym)")
    assert build(src).messages() == [qxz]
    (src / "p2.md").write_text("# Page two\n\nThe states' forces grew.\n", encoding="utf-8")
    again = build(src, freshenv=False)
    assert read_pages(again) == ["p2"]
    unused = [m for m in again.messages() if "never linked" in m]
    assert again.messages() == [qxz, *unused] and len(unused) == 1 and "'Coalition'" in unused[0]
    (src / "p2.md").write_text("# Page two\n\nThe {term}`Coalition` grew again.\n",
                               encoding="utf-8")
    assert build(src, freshenv=False).messages() == [qxz]


def test_register_follows_uses_and_titles_and_is_not_rewritten_without_change(
        tmp_path: Path, build) -> None:
    src = project(tmp_path / "p", {"p1": "# Page one\n\n{fact}`troops.2024` are there.\n",
                                   "p2": "# Page two\n\nNo facts here.\n"})
    first = build(src)
    assert first.messages() == []
    register = first.outdir / "register.html"
    assert used_on(first.outdir)["troops.2024"] == ["Clean", "Page one"]
    written = register.stat().st_mtime_ns

    # a rebuild with no change neither rereads nor rewrites the register
    build(src, freshenv=False)
    assert register.stat().st_mtime_ns == written

    # a use added on one page, removed from another: the register follows
    (src / "p2.md").write_text("# Page two\n\n{fact:value}`troops.2024` now.\n",
                               encoding="utf-8")
    (src / "p1.md").write_text("# Page one\n\nNo facts any more.\n", encoding="utf-8")
    build(src, freshenv=False)
    assert used_on(first.outdir)["troops.2024"] == ["Clean", "Page two"]

    # a page renamed: its new title in the register
    (src / "p2.md").write_text("# Page 2 renamed\n\n{fact:value}`troops.2024` now.\n",
                               encoding="utf-8")
    build(src, freshenv=False)
    assert used_on(first.outdir)["troops.2024"] == ["Clean", "Page 2 renamed"]

    # a page edited without changing its facts or title: the register is left alone
    written = register.stat().st_mtime_ns
    append(src / "p2.md", "\nMore prose.\n")
    build(src, freshenv=False)
    assert register.stat().st_mtime_ns == written


def test_diagram_added_in_a_rebuild_is_drawn_and_alt_is_checked_every_build(
        tmp_path: Path, build) -> None:
    src = project(tmp_path / "p", {"p1": "# Page one\n\nNo diagram yet.\n"})
    assert build(src).messages() == []
    append(src / "p1.md", "\n```{mermaid}\nflowchart LR\n  P[Posture] --> Q[Quarters]\n```\n")
    expected = ["p1.md:5: diagram has no text alternative: add an ':alt:' option that says "
                "in words what it shows (mermaid)"]
    again = build(src, freshenv=False)
    assert again.messages() == expected
    _, svgs = picture((again.outdir / "p1.html").read_text(encoding="utf-8"), "hb-diagram")
    assert "Quarters" in svgs
    assert build(src, freshenv=False).messages() == expected  # not reread: still reported


def test_edition_page_is_reread_when_a_tag_or_the_commit_changes(tmp_path: Path,
                                                                 build) -> None:
    from handbook_tools.changes import FIRST_EDITION

    src = project(tmp_path / "p", {"edition": EDITION_PAGE})

    def shown(built: Built) -> str:
        html = (built.outdir / "edition.html").read_text(encoding="utf-8")
        return " ".join(re.sub(r"<[^>]+>", "", html).split())

    _git(src, "init", "-q")
    _git(src, "add", "-A")
    _git(src, "commit", "-qm", "edition one")
    assert FIRST_EDITION in shown(build(src))
    assert read_pages(build(src, freshenv=False)) == []  # nothing changed: nothing read
    _git(src, "tag", "v2025.01.01")  # a tag, no file changed
    assert read_pages(build(src, freshenv=False)) == ["edition"]
    _git(src, "commit", "--allow-empty", "-qm", "edition two", date="2025-12-01T12:00:00Z")
    again = build(src, freshenv=False)  # a new commit, no file changed
    assert read_pages(again) == ["edition"]
    assert "Compared with the edition tagged v2025.01.01 (2025-01-01):" in shown(again)


#: a stand-in for purge-css.mjs: counts its runs, keeps every rule whose class is a word
#: of the content (as PurgeCSS's default extractor finds words)
FAKE_PURGE = """
import json, re, sys
from pathlib import Path
job = json.load(sys.stdin)
words = set()
for path in job["content"]:
    words |= set(re.findall(r"[A-Za-z0-9_-]+", Path(path).read_text()))
with open(sys.argv[1], "a") as runs:
    runs.write("run\\n")
out = {}
for path in job["css"]:
    rules = re.findall(r"\\.([\\w-]+) \\{[^}]*\\}", Path(path).read_text())
    out[path] = "".join(f".{r} {{ color: red }}" for r in rules if r in words)
print(json.dumps(out))
"""


def test_stylesheet_cut_reruns_only_when_the_pages_words_change(tmp_path: Path) -> None:
    """The cut is cached under the pages' bytes and under the set of their words that a
    selector can match: an edit that brings no such word (prose) reuses it without running
    node; a new class, or a word a partial attribute selector matches, runs it again."""
    import sys

    from handbook_tools.purge import purge_css

    site = tmp_path / "site"
    (site / "_static").mkdir(parents=True)
    whole = ".used { color: red }.other { color: red }.later { color: red }"
    runs = tmp_path / "runs"
    command = [sys.executable, "-c", FAKE_PURGE, str(runs)]

    def cut(page: str) -> str:
        (site / "_static" / "basic.css").write_text(whole)  # Sphinx copies it whole
        (site / "index.html").write_text(page)
        return purge_css(site, command, tmp_path / "cache")["basic.css"]

    page = '<p class="used">The coalition left.</p>'
    assert cut(page) == ".used { color: red }"
    assert cut(page) == ".used { color: red }"  # nothing changed
    assert runs.read_text().count("run") == 1
    # new bytes, no new word: the same cut, node not run
    assert cut(page + "<p>The coalition left, used.</p>") == ".used { color: red }"
    assert runs.read_text().count("run") == 1
    # new prose words no selector names: the same cut, node not run
    assert cut(page + "<p>The mission ended in Baghdad.</p>") == ".used { color: red }"
    assert runs.read_text().count("run") == 1
    # a new word that is a class: cut again, and the rule is kept
    assert cut(page + '<p class="later">p</p>') == ".used { color: red }.later { color: red }"
    assert runs.read_text().count("run") == 2
    # a word that a partial attribute selector matches (toctree-l3 for ^=toctree-l) counts
    whole += '[class^="toctree-l"] { color: red }'
    cut(page + '<p class="later">p</p>')
    assert runs.read_text().count("run") == 3  # new stylesheet
    cut(page + '<p class="later toctree-l3">p</p>')
    assert runs.read_text().count("run") == 4
