"""The mission-transition diagram draws only what the data gives: a mission left out for a
data error is reported once, where the error is, and no arrow points at it."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import CORPUS, ROOTS
from handbook_tools.missions import Missions, load_missions, mission_code
from handbook_tools.registry import load_registry

MISSIONS = """\
- id: occupation
  name: Occupation
  start: invasion.start
  next: advice
  trigger: Troops leave
- id: advice
  name: Advice
  start: advice.start.typo
"""


def load(tmp_path: Path, missions: str) -> Missions:
    data = tmp_path / "_data"
    shutil.copytree(ROOTS / "test-clean" / "_data", data)
    shutil.copy(CORPUS / "missions-overlap" / "files" / "_data" / "facts" / "missions.yaml",
                data / "facts" / "missions.yaml")
    (data / "missions.yaml").write_text(missions, encoding="utf-8")
    reg = load_registry(data, [data / "sources.bib"], display_root=tmp_path)
    assert reg.problems == []
    return load_missions(data / "missions.yaml", "missions.yaml", reg)


def test_a_transition_to_a_mission_left_out_draws_no_arrow(tmp_path: Path) -> None:
    found = load(tmp_path, MISSIONS)
    assert [m.id for m in found.items] == ["occupation"]
    # one message, at the line of the bad fact id; the transition to it is not reported
    assert [(p.line, "advice.start.typo" in p.message) for p in found.problems] == [(8, True)]
    code, alt = mission_code(found)
    assert "-->" not in code
    assert "advice" not in code
    assert "next phase" not in alt


def test_a_transition_between_drawn_missions_keeps_its_arrow(tmp_path: Path) -> None:
    found = load(tmp_path, MISSIONS.replace("advice.start.typo", "advice.start"))
    assert found.problems == []
    code, alt = mission_code(found)
    assert '    occupation -->|"Troops leave"| advice' in code.splitlines()
    assert "From Occupation to the next phase: Troops leave." in alt
