"""The freshness line under each page title says how current the page's facts are."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOTS
from handbook_tools.freshness import freshness_line
from handbook_tools.registry import AsOf, Fact


def fact(fid: str, as_of: AsOf, review_by: dt.date | None) -> Fact:
    return Fact(id=fid, value="1", as_of=as_of, review_by=review_by, sources=["s"],
                excerpt="e", path="f.yaml", line=1)


NOW = dt.date(2026, 11, 25)
OLD = fact("a", AsOf(2003, 3, 20), None)
NEW = fact("b", AsOf(2026, 1), dt.date(2027, 2, 1))
DUE = fact("c", AsOf(2025, 8), dt.date(2026, 6, 30))


@pytest.mark.parametrize(("facts", "text"), [
    ([OLD], "This page cites 1 fact dated March 2003, all settled history. "),
    ([NEW, OLD], "This page cites 2 facts dated March 2003 to January 2026; none is past "
                 "its review date on 25 November 2026. "),
    ([DUE, NEW, OLD], "This page cites 3 facts dated March 2003 to January 2026; 1 past its "
                      "review date on 25 November 2026, marked \u201creview due\u201d. "),
])
def test_freshness_line_text(facts: list[Fact], text: str) -> None:
    assert freshness_line(facts, NOW, None).astext() == text


def test_freshness_line_links_to_the_register() -> None:
    para = freshness_line([NEW], NOW, "../register.html")
    assert para.astext().endswith("Sources and dates: fact register")
    assert para.children[-1]["refuri"] == "../register.html"


def test_built_page_shows_freshness_under_its_title(tmp_path: Path, build,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDBOOK_TODAY", raising=False)
    shutil.copytree(ROOTS / "test-clean", tmp_path / "p")
    built = build(tmp_path / "p")
    assert built.warnings == ""
    html = (built.outdir / "index.html").read_text(encoding="utf-8")
    line = re.search(r'</h1>\s*<p class="hb-freshness">(.*?)</p>', html, re.S)
    assert line is not None, "the freshness line must follow the page title"
    assert re.sub(r"<[^>]+>", "", line[1]) == (
        "This page cites 2 facts dated March 2003 to September 2024; none is past its review "
        "date on 1 January 2026. Sources and dates: fact register")
    assert 'href="register.html"' in line[1]
    # a page citing no fact has no line
    assert "hb-freshness" not in (built.outdir / "glossary.html").read_text(encoding="utf-8")
