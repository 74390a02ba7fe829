"""``new-source`` and ``new-fact``: skeletons a contributor fills in, which the data check
reports until they are filled."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handbook_tools.cli import main
from handbook_tools.scaffold import add_months, bib_escape


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDBOOK_TODAY", "2026-01-31")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_new_source_registered_publisher(clean_project: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    bib = clean_project / "_data" / "sources.bib"
    code, out, _ = run(capsys, "new-source", "http://127.0.0.1:9/withdrawal", "--title",
                       "Troops leave", "--date", "2025-12-30", "--docs", str(clean_project))
    assert code == 0
    assert "added source newsagency20251230" in out
    assert "News Agency (news-agency), standing: major" in out
    text = bib.read_text(encoding="utf-8")
    assert ("@misc{newsagency20251230,\n  title        = {Troops leave},\n"
            "  howpublished = {News Agency},\n  year         = {2025},\n"
            "  month        = dec,\n  day          = {30},\n"
            "  url          = {http://127.0.0.1:9/withdrawal},\n"
            "  urldate      = {2026-01-31}\n}\n") in text
    assert "}\n\n@misc{newsagency20251230," in text  # one blank line between entries
    # the same date again: a suffixed key
    code, out, _ = run(capsys, "new-source", "http://127.0.0.1:9/other", "--title", "More",
                       "--date", "2025-12-30", "--docs", str(clean_project))
    assert code == 0 and "added source newsagency20251230a" in out
    assert main(["check", "--data-only", str(clean_project)]) == 0


def test_new_source_refuses_a_known_url(clean_project: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    bib = clean_project / "_data" / "sources.bib"
    before = bib.read_bytes()
    code, _, err = run(capsys, "new-source", "http://127.0.0.1:9/troops/", "--docs",
                       str(clean_project))
    assert code == 2
    assert "already a source: agency2024troops" in err
    assert bib.read_bytes() == before


def test_new_source_unknown_host(clean_project: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "new-source", "https://www.example.org/story", "--docs",
                       str(clean_project))
    assert code == 1
    assert "added source example20260131" in out
    assert "www.example.org is not in the publisher register" in out
    record = yaml.safe_load(out[out.index("- id: example"):])
    assert record == [{"id": "example", "name": "TODO", "standing": "TODO",
                       "domains": ["example.org"], "reason": "TODO: why this standing"}]
    # the placeholders fail the data check until filled
    assert main(["check", "--data-only", str(clean_project)]) == 1
    out = capsys.readouterr().out
    assert "field 'title' is still a TODO placeholder" in out
    assert "field 'year' is still a TODO placeholder" in out


def test_new_fact(clean_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = clean_project / "_data" / "facts" / "main.yaml"
    code, out, _ = run(capsys, "new-fact", "troops.2026", "--source", "agency2024troops",
                       "--docs", str(clean_project))
    assert code == 0, out
    records = yaml.safe_load(facts.read_text(encoding="utf-8"))
    new = records[-1]
    assert new["id"] == "troops.2026" and new["sources"] == ["agency2024troops"]
    assert str(new["as_of"]) == "2026-01-31"
    assert str(new["review_by"]) == "2026-07-31"
    assert new["value"].startswith("TODO") and new["excerpt"].startswith("TODO")
    assert main(["check", "--data-only", str(clean_project)]) == 1
    out = capsys.readouterr().out
    assert "field 'value' is still a TODO placeholder" in out
    assert "field 'excerpt' is still a TODO placeholder" in out
    # the id is taken now, placeholders and all
    code, _, err = run(capsys, "new-fact", "troops.2026", "--source", "agency2024troops",
                       "--docs", str(clean_project))
    assert code == 2 and "fact 'troops.2026' exists" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["troops.2024", "--source", "agency2024troops"], "fact 'troops.2024' exists"),
    (["troops.2027", "--source", "nosuchkey"], "unknown source key 'nosuchkey'"),
    (["x.new", "--source", "agency2024troops"], "no file holds facts starting x."),
    (["Bad Id", "--source", "agency2024troops"], "bad fact id"),
])
def test_new_fact_refuses(clean_project: Path, capsys: pytest.CaptureFixture[str],
                          argv: list[str], message: str) -> None:
    facts = clean_project / "_data" / "facts" / "main.yaml"
    before = facts.read_bytes()
    code, _, err = run(capsys, "new-fact", *argv, "--docs", str(clean_project))
    assert code == 2 and message in err
    assert facts.read_bytes() == before


def test_new_fact_file_option(clean_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "new-fact", "x.new", "--source", "agency2024troops", "--file",
                     "extra", "--docs", str(clean_project))
    assert code == 0
    extra = yaml.safe_load((clean_project / "_data" / "facts" / "extra.yaml").read_text())
    assert extra[0]["id"] == "x.new"


def test_prefix_picks_the_book_file() -> None:
    """The book's data files: each id prefix belongs to one file."""
    from handbook_tools.registry import fact_files

    repo = Path(__file__).parent.parent
    owners: dict[str, set[str]] = {}
    for path in fact_files(repo / "docs" / "_data"):
        for rec in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            owners.setdefault(rec["id"].split(".")[0], set()).add(path.stem)
    assert {p: sorted(f) for p, f in owners.items()} == {
        "c": ["cost"], "e": ["events"], "f": ["future"], "h": ["history"], "oir": ["oir"],
        "p": ["posture"], "r": ["region"]}


def test_add_months() -> None:
    import datetime as dt

    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 1, 15), 6) == dt.date(2026, 7, 15)


def test_new_source_escapes_the_title_for_bibtex(clean_project: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Braces, %, &, $, #, _, ~, ^ and backslashes of a headline: written as BibTeX and
    LaTeX read them (braces balanced, nothing read as markup), read back as typed."""
    import pybtex.errors
    from pybtex.database import parse_file
    from pybtex.richtext import Text

    from handbook_tools.registry import load_sources

    bib = clean_project / "_data" / "sources.bib"
    title = r"Q&A: 100% {of} $5 #1 a_b ~ x^2 back\slash"
    code, out, _ = run(capsys, "new-source", "http://127.0.0.1:9/qa", "--title", title,
                       "--date", "2025-12-30", "--docs", str(clean_project))
    assert code == 0, out
    assert ("  title        = {Q\\&A: 100\\% \\textbraceleft{}of\\textbraceright{} \\$5 \\#1 "
            "a\\_b \\textasciitilde{} x\\textasciicircum{}2 back\\textbackslash{}slash},\n"
            ) in bib.read_text(encoding="utf-8")
    strict, pybtex.errors.strict = pybtex.errors.strict, True
    try:  # the whole file parses, and the title is one field
        entry = parse_file(str(bib), "bibtex").entries["newsagency20251230"]
    finally:
        pybtex.errors.strict = strict
    # the characters pybtex decodes (the book's bibliography) come back as typed
    latex = entry.fields["title"].split(" \\textbraceleft")[0]
    assert Text.from_latex(latex).render_as("text") == "Q&A: 100%"
    assert Text.from_latex(bib_escape(r"a_b #1 ~ back\slash")).render_as("text") == \
        r"a_b #1 ~ back\slash"
    # the register, fact cards and downloads read the title back exactly as typed
    problems: list = []
    [src] = [s for s in load_sources(bib, "sources.bib", problems)
             if s.key == "newsagency20251230"]
    assert src.fields["title"] == title
    assert main(["check", "--data-only", str(clean_project)]) == 0


def test_the_bibliography_shows_dollars_and_carets_as_typed() -> None:
    """pybtex's decoder leaves ``\\$`` and ``\\textasciicircum{}`` as typed; the book's
    style shows the characters ("\\$901 billion" is "$901 billion"), and leaves the shared
    entry as it was."""
    from pybtex.database import Entry
    from pybtex.plugin import find_plugin

    from handbook_tools.bibstyle import archive_style

    title = r"Trump signs \$901 billion act, x\textasciicircum{}2 and y\textasciicircum 3"
    entry = Entry("misc", fields={"title": title, "year": "2025"})
    entry.key = "k"
    style = find_plugin("pybtex.style.formatting", archive_style("plain"))()
    text = style.format_entry("1", entry).text.render_as("text")
    assert "Trump signs $901 billion act, x^2 and y^3" in text, text
    assert entry.fields["title"] == title
