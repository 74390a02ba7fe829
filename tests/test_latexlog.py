"""`python -m handbook_tools latexlog` fails on the LaTeX log's link problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from handbook_tools.cli import main

CLEAN = "LaTeX Font Info: ...\nOutput written on handbook.pdf (157 pages).\n"


@pytest.mark.parametrize(("line", "reported"), [
    ("LaTeX Warning: Reference `history/index:x' on page 3 undefined on input line 9.",
     "Reference `history/index:x' on page 3 undefined"),
    ("LaTeX Warning: Citation `key' on page 4 undefined on input line 2.",
     "Citation `key' on page 4 undefined"),
    ("LaTeX Warning: Label `posture/troops:troop-chart' multiply defined.",
     "Label `posture/troops:troop-chart' multiply defined"),
])
def test_latexlog_fails_on_link_problems(line: str, reported: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "handbook.log"
    log.write_text(CLEAN + line + "\n", encoding="utf-8")
    assert main(["latexlog", str(log)]) == 1
    assert capsys.readouterr().out == f"{log}: {reported} (link)\n"


def test_latexlog_passes_a_clean_log(tmp_path: Path) -> None:
    log = tmp_path / "handbook.log"
    log.write_text(CLEAN, encoding="utf-8")
    assert main(["latexlog", str(log)]) == 0
    assert main(["latexlog", str(tmp_path / "missing.log")]) == 2
