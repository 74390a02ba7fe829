"""Missions data (``<data>/missions.yaml``) and the generated mission-transition diagram.

Each mission names the facts that date its start and end, so the diagram, the chronology
and the prose all take their dates from the registry::

    - id: oif
      name: Operation Iraqi Freedom
      start: h.oif.start          # fact id: when the mission began
      end: h.oif.end              # fact id; omit for a mission still under way
      next: ond                   # the mission that followed (omit for the last)
      trigger: Combat mission ends  # what brought the transition to `next`
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .mermaid import generated_diagram, mermaid_label
from .problems import Check, Problem, warn
from .registry import Fact, Registry, fact_ref, suggest
from .state import data_for_page
from .yamlnodes import Record, fields_ok, load_records, new_id

FIELDS = {"id": True, "name": True, "start": True, "end": False, "next": False,
          "trigger": False, "summary": False}


@dataclass
class Mission:
    id: str
    name: str
    start: Fact
    end: Fact | None
    next: str | None
    trigger: str | None
    summary: str | None
    rec: Record


@dataclass
class Missions:
    items: list[Mission] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    path: Path | None = None
    #: fact ids of missions left out because the fact has a data error (reported there)
    waiting: set[str] = field(default_factory=set)

    def fact_ids(self) -> set[str]:
        ids = {m.start.id for m in self.items}
        ids |= {m.end.id for m in self.items if m.end}
        return ids


def load_missions(path: Path, display: str, reg: Registry) -> Missions:
    out = Missions(path=path)
    if not path.is_file():
        return out
    seen: dict[str, Record] = {}
    records = load_records(path, display, out.problems)
    #: every id the file gives, usable or not: a transition to a mission dropped for a
    #: data error is not reported a second time
    written = {rec.values["id"] for rec in records
               if isinstance(rec.values.get("id"), str)}
    for rec in records:
        if not fields_ok(rec, FIELDS, out.problems, tuple(FIELDS)):
            continue
        mid = new_id(rec, "mission", seen, out.problems)
        if mid is None:
            continue
        start, end = (fact_ref(reg, rec, key, out.problems, Check.MISSION,
                               "name the fact that dates it", out.waiting)
                      for key in ("start", "end"))
        if start is None or ("end" in rec.values and end is None):
            continue
        out.items.append(Mission(mid, rec.values["name"], start, end, rec.values.get("next"),
                                 rec.values.get("trigger"), rec.values.get("summary"), rec))
    ids = {m.id for m in out.items}
    for prev, cur in zip(out.items, out.items[1:], strict=False):
        if cur.start.as_of < prev.start.as_of:
            out.problems.append(Problem(cur.rec.path, cur.rec.line_of("start"),
                                        f"mission {cur.id!r} starts before {prev.id!r} that "
                                        "precedes it: keep missions in chronological order",
                                        Check.MISSION))
        elif prev.end is not None and prev.end.as_of.first_day > cur.start.as_of.first_day:
            out.problems.append(Problem(cur.rec.path, cur.rec.line_of("start"),
                                        f"mission {cur.id!r} starts ({cur.start.as_of.iso()}) "
                                        f"before {prev.id!r} ends ({prev.end.as_of.iso()}): "
                                        "phases overlap", Check.MISSION))
    for m in out.items:
        if m.next is not None and m.next not in ids and m.next not in written:
            out.problems.append(Problem(m.rec.path, m.rec.line_of("next"),
                                        f"mission {m.id!r} transitions to unknown mission "
                                        f"{m.next!r}{suggest(str(m.next), ids)}", Check.MISSION))
    return out


def mission_code(missions: Missions) -> tuple[str, str]:
    """Mermaid flowchart and its text alternative."""
    lines = ["flowchart TD"]
    alt = ["Mission transitions of US forces in Iraq:"]
    for m in missions.items:
        span = m.start.as_of.month_year() + " – " + (m.end.as_of.month_year() if m.end
                                                     else "today")
        lines.append(f'    {m.id}["<b>{mermaid_label(m.name)}</b><br/>{span}"]')
        alt.append(f"{m.name}, {span}.")
    drawn = {m.id for m in missions.items}
    for m in missions.items:
        # a transition to a mission left out for a data error (reported where it is) is
        # left out too: Mermaid would draw the bare id as a box of its own
        if m.next in drawn:
            trig = mermaid_label(m.trigger or "")
            arrow = f' -->|"{trig}"| ' if trig else " --> "
            lines.append(f"    {m.id}{arrow}{m.next}")
            if trig:
                alt.append(f"From {m.name} to the next phase: {m.trigger}.")
    return "\n".join(lines), " ".join(alt)


class MissionDiagramDirective(SphinxDirective):
    has_content = False
    option_spec = {"caption": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        missions: Missions = data_for_page(self.env, "missions")
        if not missions.items and not missions.waiting:
            warn(Check.MISSION, "no missions to draw: add them to missions.yaml in the data "
                 "folder", self.get_location())
            return []
        return generated_diagram(self, *mission_code(missions))


def setup_missions(app: Sphinx) -> None:
    app.add_directive("mission-diagram", MissionDiagramDirective)
