"""CONTRIBUTING.md's walkthrough "Add a fact from a news story", step by step, on a copy of
tests/roots/test-clean: scaffold the source, scaffold the fact, fill it in, cite it on a
page, `check` (clean), then the strict build (no warning)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from handbook_tools.cli import main

URL = "http://127.0.0.1:9/withdrawal"


def test_walkthrough_steps_are_in_contributing() -> None:
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    part = text[text.index("## Add a fact from a news story"):]
    for step in (".venv/bin/handbook new-source", ".venv/bin/handbook new-fact",
                 "make check", "make html"):
        assert step in part, step


def test_walkthrough(clean_project: Path, build, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDBOOK_TODAY", "2026-01-01")
    docs = str(clean_project)
    # 1. scaffold the source: its publisher is in the register
    assert main(["new-source", URL, "--title", "Coalition troops leave Baghdad", "--date",
                 "2025-12-30", "--docs", docs]) == 0
    out = capsys.readouterr().out
    assert "added source newsagency20251230" in out
    assert "standing: major" in out
    # 2. scaffold the fact, which fails the check until filled in
    assert main(["new-fact", "troops.2025-12", "--source", "newsagency20251230", "--docs",
                 docs]) == 0
    assert main(["check", "--data-only", docs]) == 1
    capsys.readouterr()
    facts = clean_project / "_data" / "facts" / "main.yaml"
    text = facts.read_text(encoding="utf-8")
    text = text.replace("value: 'TODO: the value readers see'", "value: about 2,000")
    text = text.replace("excerpt: 'TODO: the source''s words, verbatim, that support the "
                        "value'", "excerpt: About 2,000 coalition troops remain in the "
                        "country.")
    assert "TODO" not in text
    facts.write_text(text, encoding="utf-8")
    # 3. cite it on a page
    index = clean_project / "index.md"
    page = index.read_text(encoding="utf-8")
    index.write_text(page.replace("```{mermaid}", "At the end of 2025, "
                                  "{fact}`troops.2025-12` foreign troops remained.\n\n"
                                  "```{mermaid}", 1), encoding="utf-8")
    # 4. make check: clean
    code = main(["check", docs])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    # 5. the strict build: no warning
    built = build(clean_project)
    assert built.warnings == ""
    html = (built.outdir / "index.html").read_text(encoding="utf-8")
    assert "about 2,000" in html
