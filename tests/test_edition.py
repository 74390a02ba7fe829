"""The edition: CITATION.cff, the generated citation, data downloads and what changed."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO

CFF_SCHEMA = Path(__file__).parent / "data" / "cff-1.2.0.schema.json"
EDITION_PAGE = """\
# Edition

```{edition-summary}
```

```{cite-handbook}
```

Data: {data-file}`facts.csv`.

```{edition-changes}
```
"""


# ---------------------------------------------------------------------------- citation

def test_citation_file_is_valid_cff_1_2_0() -> None:
    """Against the official schema, as cffconvert 2.0.0 vendors it (tests/data; offline)."""
    jsonschema = pytest.importorskip("jsonschema")
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    # YAML reads unquoted dates as dates; the schema wants the text CFF files hold
    jsonschema.validate(json.loads(json.dumps(cff, default=str)), schema)
    assert cff["cff-version"] == "1.2.0"
    assert cff["license"] == "CC-BY-4.0"
    assert cff["authors"] == [{"name": "The Iraq Handbook contributors"}]
    assert cff["preferred-citation"]["type"] in ("book", "generic")
    # the release scheme: version YYYY.MM.DD (the tag without its v), released that day
    assert re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", cff["version"])
    assert cff["date-released"] == cff["version"].replace(".", "-")
    for key in ("title", "abstract", "keywords", "message"):
        assert cff[key], key


def test_citation_texts_come_from_the_cff_and_the_edition() -> None:
    import datetime as dt

    from handbook_tools.edition import citation_texts, load_citation

    cff = load_citation(REPO / "CITATION.cff")
    plain, bib = citation_texts(cff, "2026.11.25", dt.date(2026, 11, 25), "0123456789abcdef")
    title = cff["preferred-citation"]["title"]
    assert plain == f"The Iraq Handbook contributors. (2026). {title} (edition 2026.11.25)."
    assert bib.startswith("@book{iraqhandbook20261125,\n")
    assert f"  title   = {{{title}}}," in bib
    assert "  author  = {{The Iraq Handbook contributors}}," in bib
    assert "commit 0123456789ab; licence CC-BY-4.0" in bib


def test_licence_files_and_readme() -> None:
    assert "MIT License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    content = (REPO / "LICENSE-CONTENT.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in content and "creativecommons.org/licenses/by/4.0/legalcode" in content
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "LICENSE-CONTENT.md" in readme and "CITATION.cff" in readme


# ---------------------------------------------------------------------------- downloads

def _with_edition_page(project: Path) -> Path:
    (project / "edition.md").write_text(EDITION_PAGE, encoding="utf-8")
    index = project / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("sources\n```",
                                                               "sources\nedition\n```"),
                     encoding="utf-8")
    return project


def test_downloads_match_the_register_and_are_reproducible(clean_project: Path, build,
                                                            tmp_path: Path) -> None:
    from handbook_tools.publishers import attributions, best_standing, load_all

    project = _with_edition_page(clean_project)
    first = build(project, builddir=tmp_path / "one")
    second = build(project, builddir=tmp_path / "two")
    assert first.warnings == "", first.warnings
    data = first.outdir / "data"
    # the downloads, without the build's compressed copies of them (handbook_tools.compress)
    names = sorted(p.name for p in data.iterdir() if p.suffix not in (".gz", ".br"))
    assert names == ["README.txt", "facts.csv", "facts.json", "sources.bib",
                     "us-troops-iraq.csv"]
    for name in names:
        assert (data / name).read_bytes() == (second.outdir / "data" / name).read_bytes(), name
    reg, pubs = load_all(project / "_data", [project / "_data" / "sources.bib"])
    atts = attributions(reg, pubs) if pubs else {}
    rows = list(csv.DictReader(io.StringIO((data / "facts.csv").read_text(encoding="utf-8"))))
    doc = json.loads((data / "facts.json").read_text(encoding="utf-8"))
    assert doc["license"] == "CC-BY-4.0"
    assert [r["id"] for r in rows] == [f["id"] for f in doc["facts"]] == sorted(reg.facts)
    for row, rec in zip(rows, doc["facts"], strict=True):
        fact = reg.facts[row["id"]]
        assert row["value"] == rec["value"] == fact.value
        assert row["as_of"] == rec["as_of"] == fact.as_of.iso()
        assert rec["number"] == fact.number
        assert row["number"] == ("" if fact.number is None else str(int(fact.number)))
        assert row["standing"] == rec["standing"] == (best_standing(fact, atts) or "")
        assert [s["key"] for s in rec["sources"]] == fact.sources
        assert [s["url"] for s in rec["sources"]] == [reg.sources[k].url for k in fact.sources]
        assert rec["excerpt"] == fact.excerpt
    series = list(csv.reader(io.StringIO(
        (data / "us-troops-iraq.csv").read_text(encoding="utf-8"))))
    assert series[0] == ["date", "us_troops", "value", "fact_id", "sources", "standing"]
    assert (data / "sources.bib").read_bytes() == (project / "_data" / "sources.bib").read_bytes()
    assert "CC-BY-4.0" in (data / "README.txt").read_text(encoding="utf-8")
    page = (first.outdir / "edition.html").read_text(encoding="utf-8")
    assert 'href="data/facts.csv"' in page
    assert "Built from commit" in page


# ---------------------------------------------------------------------------- what changed

def _git(repo: Path, *args: str, date: str = "2025-01-01T12:00:00Z") -> None:
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _changes_text(build, project: Path) -> str:
    built = build(project)
    html = (built.outdir / "edition.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html)
    return " ".join(text.split())


def test_no_git_and_no_tag_say_so_plainly(clean_project: Path, build) -> None:
    from handbook_tools.changes import FIRST_EDITION, NO_GIT

    project = _with_edition_page(clean_project)
    assert NO_GIT in _changes_text(build, project)
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "first")
    text = _changes_text(build, project)
    assert FIRST_EDITION in text
    assert re.search(r"Built from commit: [0-9a-f]{40}|Built from commit: unknown", text)


def test_changes_since_the_previous_tag(clean_project: Path, build) -> None:
    project = _with_edition_page(clean_project)
    facts = project / "_data" / "facts" / "main.yaml"
    old = facts.read_text(encoding="utf-8")
    facts.write_text(old + """\
- id: gone.fact
  value: twelve
  as_of: 2020
  review_by: never
  sources: [agency2024troops]
  excerpt: The country has about 2,500 troops.
""", encoding="utf-8")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "edition one")
    _git(project, "tag", "v2025.01.01")
    # the next edition: one value changed and past review, one fact removed, one added
    new = old.replace("value: about 2,500", "value: about 2,000").replace(
        "review_by: 2026-09-30", "review_by: 2025-06-30")
    facts.write_text(new + """\
- id: new.fact
  value: thirteen
  as_of: 2025
  review_by: never
  sources: [agency2024troops]
  excerpt: The country has about 2,500 troops.
""", encoding="utf-8")
    _git(project, "commit", "-qam", "edition two", date="2025-12-01T12:00:00Z")
    text = _changes_text(build, project)
    assert "Compared with the edition tagged v2025.01.01 (2025-01-01):" in text
    assert "Added (1) new.fact: thirteen (as of 2025)" in text
    assert ("Value or date changed (1) troops.2024: about 2,500 (as of 27 September 2024) "
            "\u2192 about 2,000 (as of 27 September 2024)") in text
    assert "Removed (1) gone.fact: twelve (as of 2020)" in text
    assert "Newly past review (1) troops.2024: review was due by 2025-06-30" in text
    # a build of the tagged commit itself compares with the tag before it: none here
    _git(project, "tag", "v2025.12.01")
    from handbook_tools.changes import FIRST_EDITION, previous_tag

    assert previous_tag(project, "v[0-9]*") == "v2025.01.01"
    _git(project, "tag", "-d", "v2025.01.01")
    assert FIRST_EDITION in _changes_text(build, project)


# ---------------------------------------------------------------------------- front matter

def test_front_matter_one_line_on_the_web_whole_summary_before_the_pdf_contents(
        clean_project: Path, build) -> None:
    """``{edition-frontmatter}``: the web shows one sentence; the LaTeX file sets the whole
    summary (the edition page's field list) and the citation on the back of the title page,
    before the contents, and nowhere in the body."""
    project = _with_edition_page(clean_project)
    index = project / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "```{toctree}", "```{edition-frontmatter}\n:details: edition-page\n```\n\n```{toctree}",
        1), encoding="utf-8")
    edition = project / "edition.md"
    edition.write_text("(edition-page)=\n" + edition.read_text(encoding="utf-8"),
                       encoding="utf-8")
    conf = {"handbook_search_horizon": "2026-01-15", "version": "2026.01.20"}
    html = build(project, confoverrides=conf)
    assert html.warnings == "", html.warnings
    page = (html.outdir / "index.html").read_text(encoding="utf-8")
    text = " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert "This edition: 2026.01.20 (20 January 2026), built from commit" in text
    assert "Sources searched up to" not in text and "@book{" not in text
    full = " ".join(re.sub(r"<[^>]+>", "", (html.outdir / "edition.html").read_text(
        encoding="utf-8")).split()).replace(" :", ":")
    assert ("Sources searched up to: 15 January 2026; nothing published after that day is "
            "in this edition") in full
    assert "Licence: text and data CC BY 4.0" in full

    latex = build(project, "latex", confoverrides={
        **conf, "latex_documents": [("index", "book.tex", "Book", "Someone", "manual")]})
    assert latex.warnings == "", latex.warnings
    tex = (latex.outdir / "book.tex").read_text(encoding="utf-8")
    back = tex.index("\\def\\sphinxbackoftitlepage")
    front = tex[tex.index("\\begin{lrbox}{\\hbeditionbox}"):back]
    assert back < tex.index("\\sphinxmaketitle") < tex.index("\\sphinxtableofcontents")
    for field in ("Edition", "Built from commit", "Sources searched up to", "Facts",
                  "Sources", "Licence"):
        assert f"\\sphinxstylestrong{{{field}}}" in front or f"{{{field}}}" in front, field
    assert "15 January 2026; nothing published after that day" in front
    assert "{iraqhandbook20260120}" in front  # the BibTeX entry, highlighted
    body = tex[tex.index("\\sphinxtableofcontents"):]
    assert "Sources searched up to" in body  # the edition page itself, in the Reference
    assert body.count("nothing published after that day") == 1
    assert "This edition:" not in tex  # the web's sentence is not in the PDF
