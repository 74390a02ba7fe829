"""The fact register in sections: one a fact file, in the order and under the titles the
``{fact-register}`` directive gives; every fact once, in its file's section, with its
anchor; each HTML table in a block the browser may skip off screen (handbook.css)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bs4 import BeautifulSoup

from conftest import ROOTS

#: a second fact file for the clean project, its fact cited by the index page
SECOND = """\
- id: bases.count
  kind: figure
  value: two bases
  as_of: 2025-01-01
  review_by: never
  sources: [agency2024troops]
  excerpt: The country has about 2,500 troops.
"""


def _project(dest: Path, directive: str) -> Path:
    """The clean project with two fact files and the register page's directive content."""
    shutil.copytree(ROOTS / "test-clean", dest)
    (dest / "_data" / "facts" / "second.yaml").write_text(SECOND, encoding="utf-8")
    index = dest / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "```{mermaid}", "There are {fact:value}`bases.count`.\n\n```{mermaid}"),
        encoding="utf-8")
    (dest / "register.md").write_text(
        f"# Register\n\nThe facts.\n\n```{{fact-register}}\n{directive}```\n",
        encoding="utf-8")
    return dest


def _sections(html: str) -> list[tuple[str, str, list[str]]]:
    """(section id, title, fact anchors in its table) of each section of the register."""
    soup = BeautifulSoup(html, "html.parser")
    out = []
    for sec in soup.select("section section"):
        title = sec.find(["h2", "h3"]).get_text().rstrip("#¶").strip()
        ids = [t["id"] for t in sec.select("table.hb-register tr[id]")]
        out.append((sec["id"], title, ids))
    return out


def test_sections_in_the_given_order_each_fact_once(tmp_path: Path, build) -> None:
    built = build(_project(tmp_path / "p", "second: Bases\nmain: Troops and dates\n"))
    assert built.warnings == ""
    html = (built.outdir / "register.html").read_text(encoding="utf-8")
    assert _sections(html) == [
        ("facts-second", "Bases", ["fact-bases-count"]),
        ("facts-main", "Troops and dates", ["fact-invasion-start", "fact-troops-2024"]),
    ]
    # in HTML the row holds the anchor, and a cell of one paragraph has no <p>
    assert '<tr class="row-even" id="fact-bases-count"><td><code' in html
    assert "<td>two bases</td>" in html
    # the fact links of the other pages point at the same anchors, on the same page
    index = (built.outdir / "index.html").read_text(encoding="utf-8")
    assert 'href="register.html#fact-bases-count"' in index
    assert 'href="register.html#fact-troops-2024"' in index
    # real sections: the page's table of contents lists them
    toc = built.app.env.tocs["register"].astext()
    assert "Bases" in toc and "Troops and dates" in toc
    # each table in its own block, which counts as high as its rows until laid out, and
    # not in the theme's scroll box (its script would lay out every block on load)
    soup = BeautifulSoup(html, "html.parser")
    blocks = soup.select("div.hb-register-part")
    assert [b.get("style") for b in blocks] == ["--hb-rows: 1", "--hb-rows: 2"]
    assert all(b.find("table", recursive=False) for b in blocks)
    assert soup.select(".pst-scrollable-table-container table.hb-register") == []
    css = (built.outdir / "_static" / "handbook.css").read_text(encoding="utf-8")
    rule = re.search(r"\.hb-register-part \{([^}]*)\}", css)
    assert rule is not None
    assert "content-visibility: auto" in rule.group(1)
    assert "contain-intrinsic-size: auto calc(var(--hb-rows" in rule.group(1)
    assert 'href="_static/handbook.css' in html


def test_without_content_one_table_of_every_fact(tmp_path: Path, build) -> None:
    built = build(_project(tmp_path / "p", ""))
    assert built.warnings == ""
    soup = BeautifulSoup((built.outdir / "register.html").read_text(encoding="utf-8"),
                         "html.parser")
    assert soup.select("section section") == []
    assert [t["id"] for t in soup.select("table.hb-register tr[id]")] == [
        "fact-bases-count", "fact-invasion-start", "fact-troops-2024"]


def test_a_fact_file_without_a_title_is_reported_and_still_listed(tmp_path: Path,
                                                                 build) -> None:
    built = build(_project(tmp_path / "p", "main: Troops and dates\n"))
    assert built.messages() == [
        "register.md:5: fact file _data/facts/second.yaml has no section in the register: "
        "add a line 'second: <title>' to the {fact-register} directive (its facts are "
        "listed under 'second' until then) (register)"]
    html = (built.outdir / "register.html").read_text(encoding="utf-8")
    assert _sections(html) == [
        ("facts-main", "Troops and dates", ["fact-invasion-start", "fact-troops-2024"]),
        ("facts-second", "second", ["fact-bases-count"]),
    ]


def test_bad_lines_are_reported_at_their_line(tmp_path: Path, build) -> None:
    built = build(_project(tmp_path / "p", "main: Troops\nsecnd: Bases\nsecond Bases\n"
                                           "second: Bases\nmain: Again\n"))
    assert sorted(built.messages()) == [
        "register.md:10: register section 'main' is given twice (register)",
        "register.md:7: register section 'secnd': no fact file secnd.yaml in _data/facts "
        "(did you mean 'second'?) (register)",
        "register.md:8: register section 'second Bases': write the fact file's name, a "
        "colon and the section's title, such as 'history: The invasion, 2003' (register)",
    ]
    html = (built.outdir / "register.html").read_text(encoding="utf-8")
    assert [s[:2] for s in _sections(html)] == [("facts-main", "Troops"),
                                                 ("facts-second", "Bases")]


def test_latex_has_a_section_and_a_table_a_fact_file(tmp_path: Path, build) -> None:
    built = build(_project(tmp_path / "p", "second: Bases\nmain: Troops and dates\n"),
                  "latex")
    assert built.warnings == ""
    tex = next(built.outdir.glob("*.tex")).read_text(encoding="utf-8")
    start = tex.index("{Register}")
    register = tex[start:tex.index(r"\chapter", start)]
    tables = re.compile(r"\\begin\{(?:longtable|tabulary|tabular)\}")
    first, second = register.index("{Bases}"), register.index("{Troops and dates}")
    assert first < second
    assert len(tables.findall(register[:first])) == 0
    assert len(tables.findall(register[first:second])) == 1
    assert len(tables.findall(register[second:])) == 1
    for anchor in ("fact-bases-count", "fact-invasion-start", "fact-troops-2024"):
        assert register.count(f":{anchor}}}") == 1, anchor
    assert "hb-register-part" not in tex
