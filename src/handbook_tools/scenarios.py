"""Future-scenarios data (``<data>/scenarios.yaml``) and the generated scenario diagram.

One record gives the starting point, a fact of the registry that dates it; every other
record is a scenario with the signposts readers could watch for.  A signpost may name the
fact that gives its latest dated reading, so the diagram shows that fact's value and date::

    - start: p.coalition.federal-complete   # fact id: where things stand
      title: Coalition mission ends in federal Iraq

    - id: advisory                          # lowercase letters, digits, '-' and '_'
      title: Advisory partnership           # the short name in the diagram
      summary: A continued advisory role    # optional: a line under the name, from the page
      signposts:
        - text: No follow-on accord signed  # what to watch for
          fact: f.transition.syria-deadline # optional: a fact id of the registry ...
          label: Syria-support deadline     # ... and what its value is (needed with fact)

``{scenario-diagram}`` draws it through the same Mermaid pipeline as every diagram (one
browser session, cache, inline light/dark SVG, generated text alternative); ``:caption:``
adds a caption.  Problems are reported at the data file's line.
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
from .registry import Fact, Registry, fact_ref
from .state import data_for_page
from .yamlnodes import Record, fields_ok, load_records, new_id, sub_records

START_FIELDS = {"start": True, "title": True}
SCENARIO_FIELDS = {"id": True, "title": True, "summary": False, "signposts": True}
SIGNPOST_FIELDS = {"text": True, "fact": False, "label": False}


@dataclass
class Signpost:
    text: str
    fact: Fact | None
    label: str | None

    def reading(self) -> str | None:
        """The fact's value and date as the diagram shows them, or None."""
        if self.fact is None:
            return None
        value = self.fact.value
        if self.fact.kind != "date":
            value += f" (as of {self.fact.as_of.month_year()})"
        return f"{self.label}: {value}"


@dataclass
class Scenario:
    id: str
    title: str
    summary: str | None
    signposts: list[Signpost]
    rec: Record


@dataclass
class Scenarios:
    start: Fact | None = None
    start_title: str = ""
    items: list[Scenario] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    path: Path | None = None
    #: fact ids left out of the diagram because the fact has a data error (reported there)
    waiting: set[str] = field(default_factory=set)

    def fact_ids(self) -> set[str]:
        ids = {s.fact.id for sc in self.items for s in sc.signposts if s.fact}
        if self.start:
            ids.add(self.start.id)
        return ids


#: what a scenario record's fact reference that names no fact is reported as
UNKNOWN = (Check.UNKNOWN_FACT, "name an existing fact")


def _signposts(reg: Registry, rec: Record, data: Scenarios) -> list[Signpost] | None:
    problems = data.problems
    subs = sub_records(rec, "signposts", problems)
    if subs is None:
        return None
    out: list[Signpost] = []
    usable = True
    for sub in subs:
        if not fields_ok(sub, SIGNPOST_FIELDS, problems, tuple(SIGNPOST_FIELDS)):
            usable = False
            continue
        has_fact, has_label = "fact" in sub.values, "label" in sub.values
        if has_fact and not has_label:
            problems.append(Problem(sub.path, sub.line_of("fact"),
                                    "'fact' needs a 'label' beside it saying what the fact's "
                                    "value is", Check.SCHEMA))
            usable = False
            continue
        if has_label and not has_fact:
            problems.append(Problem(sub.path, sub.line_of("label"),
                                    "'label' needs a 'fact' beside it", Check.SCHEMA))
            usable = False
            continue
        fact = fact_ref(reg, sub, "fact", problems, *UNKNOWN, data.waiting) if has_fact else None
        if has_fact and fact is None:
            usable = False
            continue
        out.append(Signpost(sub.values["text"], fact, sub.values.get("label")))
    return out if usable else None


def load_scenarios(path: Path, display: str, reg: Registry) -> Scenarios:
    out = Scenarios(path=path)
    if not path.is_file():
        return out
    records = load_records(path, display, out.problems)
    start_rec: Record | None = None
    seen: dict[str, Record] = {}
    for rec in records:
        if "start" in rec.values:
            if start_rec is not None:
                out.problems.append(Problem(rec.path, rec.line_of("start"),
                                            "starting point given twice (first at line "
                                            f"{start_rec.line})", Check.DUPLICATE))
                continue
            start_rec = rec
            if fields_ok(rec, START_FIELDS, out.problems, tuple(START_FIELDS)):
                out.start = fact_ref(reg, rec, "start", out.problems, *UNKNOWN, out.waiting)
                out.start_title = rec.values["title"]
            continue
        if not fields_ok(rec, SCENARIO_FIELDS, out.problems, ("id", "title", "summary")):
            continue
        sid = new_id(rec, "scenario", seen, out.problems, first_with_path=False)
        if sid is None:
            continue
        signposts = _signposts(reg, rec, out)
        if signposts is not None:
            out.items.append(Scenario(sid, rec.values["title"], rec.values.get("summary"),
                                      signposts, rec))
    if records and start_rec is None:
        out.problems.append(Problem(display, records[0].line,
                                    "no starting point: add a record with 'start: <fact id>' "
                                    "and 'title'", Check.SCENARIO))
    return out


def _head(data: Scenarios) -> list[str]:
    """The flowchart's first lines: its direction and the starting point."""
    assert data.start is not None
    return ["flowchart LR",
            f'    start["<b>{mermaid_label(data.start_title)}</b><br/>'
            f'{mermaid_label(data.start.value)}"]']


def _branch(node: str, sc: Scenario) -> str:
    """The edge from the starting point to one scenario's box."""
    summary = f"<br/>{mermaid_label(sc.summary)}" if sc.summary else ""
    return f'    start --> {node}["<b>{mermaid_label(sc.title)}</b>{summary}"]'


def _post_label(post: Signpost) -> str:
    """A signpost's text, with its fact's reading in italics under it."""
    text = mermaid_label(post.text)
    reading = post.reading()
    return text + f"<br/><i>{mermaid_label(reading)}</i>" if reading else text


def scenario_code(data: Scenarios) -> tuple[str, str]:
    """Mermaid flowchart and its text alternative."""
    assert data.start is not None
    lines = _head(data)
    alt = [f"Flow chart of {len(data.items)} future scenarios. From the starting point, "
           f"{data.start_title} ({data.start.value}), one branch leads to each scenario and "
           "on to its signposts."]
    for i, sc in enumerate(data.items, 1):
        node = f"s{i}"
        lines.append(_branch(node, sc))
        posts = []
        for j, post in enumerate(sc.signposts, 1):
            lines.append(f'    {node} --> {node}_{j}["{_post_label(post)}"]')
            reading = post.reading()
            posts.append(post.text + (f" \u2013 {reading}" if reading else ""))
        name = f"{sc.title} ({sc.summary})" if sc.summary else sc.title
        alt.append(f"{name}: " + "; ".join(posts) + ".")
    return "\n".join(lines), " ".join(alt)


def scenario_print_code(data: Scenarios) -> str:
    """The diagram laid out for the A4 page: each scenario's signposts in one box, a list,
    so the four scenarios stack as four rows (the screen's layout, one box a signpost, is
    fourteen boxes tall and prints its text at 3 pt)."""
    lines = _head(data)
    for i, sc in enumerate(data.items, 1):
        node = f"s{i}"
        lines.append(_branch(node, sc))
        items = ["\u2022 " + _post_label(post) for post in sc.signposts]
        lines.append(f'    {node} --> {node}_signposts["{"<br/>".join(items)}"]')
    # a list reads from its left edge
    lines.append("    classDef signposts text-align:left")
    lines.append("    class " + ",".join(f"s{i}_signposts" for i in range(1, len(data.items) + 1))
                 + " signposts")
    return "\n".join(lines)


class ScenarioDiagramDirective(SphinxDirective):
    has_content = False
    option_spec = {"caption": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        data: Scenarios = data_for_page(self.env, "scenarios")
        if data.problems or data.waiting:
            return []  # reported at the data files' lines
        if data.start is None or not data.items:
            warn(Check.SCENARIO, "no scenarios to draw: add them to scenarios.yaml in the "
                 "data folder", self.get_location())
            return []
        return generated_diagram(self, *scenario_code(data),
                                 print_code=scenario_print_code(data))


def setup_scenarios(app: Sphinx) -> None:
    app.add_directive("scenario-diagram", ScenarioDiagramDirective)
