"""Generated pictures follow the data, and only the data: a small project built twice.

- the scenario diagram is drawn from ``scenarios.yaml`` with the dated facts of its
  signposts and a generated text alternative;
- changing ONE date in the fact register changes, in the next incremental build and with no
  other edit, the mission diagram, the chronology and the troop chart (the fact is a mission
  boundary, a point of the ``us-troops-iraq`` series and a chronology row);
- a rebuild with no change, or with a page touched but its diagram unchanged, launches no
  browser and draws no chart (every picture comes from the cache).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOTS, Built, picture

FACTS = """
- id: troops.2024
  value: about 2,500
  as_of: 2024-09-27
  review_by: 2026-09-30
  sources: [agency2024troops]
  excerpt: The country has about 2,500 troops.
  number: 2500
  unit: troops
  series: us-troops-iraq
- id: invasion.start
  kind: date
  value: 20 March 2003
  as_of: 2003-03-20
  review_by: never
  sources: [agency2024troops]
  excerpt: The invasion began on 20 March 2003.
  chronology: The invasion begins
- id: troops.combat-end
  value: about 150,000
  as_of: 2003-05-01
  review_by: never
  sources: [agency2024troops]
  excerpt: About 150,000 troops were in the country when major combat ended.
  number: 150000
  unit: troops
  series: us-troops-iraq
  chronology: Major combat ends
"""

MISSIONS = """
- id: invasion
  name: Invasion
  start: invasion.start
  end: troops.combat-end
  next: advice
  trigger: Major combat ends
- id: advice
  name: Advice
  start: troops.combat-end
"""

SCENARIOS = """
- start: invasion.start
  title: Invasion begins
- id: stay
  title: Troops stay
  summary: A small force remains
  signposts:
    - text: No exit date set
    - text: Troops remain in the country
      fact: troops.2024
      label: Troops in the country
- id: leave
  title: Troops leave
  signposts:
    - text: Bases handed over
"""

PAGES = {
    "history.md": ("# History\n\n(missions)=\n```{mission-diagram}\n"
                   ":caption: Missions drawn from the data.\n```\n"),
    "troops.md": "# Troops\n\n```{troop-chart}\n```\n",
    "future.md": ("# Future\n\n(scenarios)=\n```{scenario-diagram}\n"
                  ":caption: Two scenarios drawn from the data.\n```\n"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """test-clean plus missions, a troop chart and scenarios."""
    dest = tmp_path / "p"
    shutil.copytree(ROOTS / "test-clean", dest)
    (dest / "_data" / "facts" / "main.yaml").write_text(FACTS, encoding="utf-8")
    (dest / "_data" / "missions.yaml").write_text(MISSIONS, encoding="utf-8")
    (dest / "_data" / "scenarios.yaml").write_text(SCENARIOS, encoding="utf-8")
    for name, text in PAGES.items():
        (dest / name).write_text(text, encoding="utf-8")
    index = dest / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "sources\n```", "sources\nhistory\ntroops\nfuture\n```"), encoding="utf-8")
    return dest


class Launch(list[str]):
    """The jobs sent to one renderer, and the page being read when it was started (None:
    after reading)."""

    def __init__(self, reading: str | None) -> None:
        super().__init__()
        self.reading = reading


@pytest.fixture
def renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Every launch of the diagram renderer (its jobs) and every chart drawn, from an empty
    diagram cache of the test's own (not the session's)."""
    monkeypatch.setenv("HANDBOOK_CACHE_DIR", str(tmp_path / "cache"))
    from handbook_tools import chart, mermaid

    seen: dict[str, list[Any]] = {"browser": [], "chart": []}
    real_start, real_draw = mermaid.start_session, chart._draw

    def start(app: Any) -> Any:
        session = real_start(app)
        # the format of each job, as the build sends it
        jobs = Launch(app.env.temp_data.get("docname") or None)
        seen["browser"].append(jobs)
        real_send = session.send

        def send(job: dict[str, Any]) -> None:
            if job["final"] not in session.sent:
                jobs.append(job["format"])
            real_send(job)

        session.send = send  # type: ignore[method-assign]
        return session

    def draw(points: Any, variant: str, out: Path, title: str, *args: Any) -> None:
        seen["chart"].append(variant)
        real_draw(points, variant, out, title, *args)

    monkeypatch.setattr(mermaid, "start_session", start)
    monkeypatch.setattr(chart, "_draw", draw)
    return seen


def read(built_out: Path, page: str) -> str:
    return (built_out / page).read_text(encoding="utf-8")


def clean_build(build, project: Path, freshenv: bool = True) -> Built:
    """A build of the project that must give no warning."""
    built = build(project, freshenv=freshenv)
    assert built.warnings == ""
    return built


def test_scenario_diagram_shows_signpost_facts(project: Path, build) -> None:
    built = clean_build(build, project)
    page = read(built.outdir, "future.html")
    alt, svg = picture(page, "hb-diagram")
    assert alt.startswith("Flow chart of 2 future scenarios. From the starting point, "
                          "Invasion begins (20 March 2003),")
    assert ("Troops stay (A small force remains): No exit date set; Troops remain in the "
            "country \u2013 Troops in the country: about 2,500 (as of September 2024).") in alt
    assert "Troops leave: Bases handed over." in alt
    assert svg.count("<svg") == 2
    assert "about 2,500 (as of September 2024)" in svg
    assert "<figcaption>" in page and "Two scenarios drawn from the data." in page
    assert 'id="scenarios"' in page
    history = read(built.outdir, "history.html")
    assert "<figcaption>" in history and "Missions drawn from the data." in history


def test_one_date_changes_diagram_chronology_and_chart(
        project: Path, build, renders: dict[str, list[Any]]) -> None:
    first = clean_build(build, project)
    mission_alt, mission_svg = picture(read(first.outdir, "history.html"), "hb-diagram")
    chart_alt, chart_svg = picture(read(first.outdir, "troops.html"), "hb-diagram hb-chart")
    chronology = read(first.outdir, "chronology.html")
    assert "Invasion, March 2003 \u2013 May 2003." in mission_alt
    assert "May 2003" in mission_svg
    assert "May 2003: about 150,000" in chart_alt
    assert "1 May 2003" in chronology
    assert renders["browser"] and renders["chart"]
    renders["browser"].clear()
    renders["chart"].clear()

    facts = project / "_data" / "facts" / "main.yaml"
    text = facts.read_text(encoding="utf-8")
    assert text.count("as_of: 2003-05-01") == 1
    facts.write_text(text.replace("as_of: 2003-05-01", "as_of: 2003-06-15"), encoding="utf-8")

    second = clean_build(build, project, freshenv=False)
    new_alt, new_svg = picture(read(second.outdir, "history.html"), "hb-diagram")
    new_chart_alt, new_chart_svg = picture(read(second.outdir, "troops.html"),
                                           "hb-diagram hb-chart")
    new_chronology = read(second.outdir, "chronology.html")
    # the mission diagram: text alternative and the rendered picture itself
    assert "Invasion, March 2003 \u2013 June 2003." in new_alt
    assert "June 2003" in new_svg and "May 2003" not in new_svg
    assert new_svg != mission_svg
    # the chronology
    assert "15 June 2003" in new_chronology and "1 May 2003" not in new_chronology
    # the troop chart: a new drawing, and its table of points
    assert "June 2003: about 150,000" in new_chart_alt and "May 2003" not in new_chart_alt
    assert new_chart_svg != chart_svg
    assert "15 June 2003" in read(second.outdir, "troops.html")
    # exactly the changed pictures were made again: one browser launch, one new chart
    assert len(renders["browser"]) == 1
    assert sorted(renders["chart"]) == ["dark", "light", "print"]


def test_rebuild_without_change_launches_no_browser(
        project: Path, build, renders: dict[str, list[Any]]) -> None:
    first = clean_build(build, project)
    assert len(renders["browser"]) == 1  # every diagram of the project in one session
    # started while the pages were read, not after: the browser draws while Sphinx reads
    assert renders["browser"][0].reading in ("future", "history", "index")
    # the three diagrams (missions, scenarios and test-clean's own), light and dark
    assert sorted(renders["browser"][0]) == ["svg"] * 6
    assert "diagram variant(s) in one browser session" in first.status
    renders["browser"].clear()
    renders["chart"].clear()

    again = clean_build(build, project, freshenv=False)
    assert renders == {"browser": [], "chart": []}
    assert "browser session" not in again.status

    # a page re-read with the same diagrams: still nothing drawn
    for page in ("history.md", "troops.md", "future.md", "index.md"):
        (project / page).touch()
    touched = clean_build(build, project, freshenv=False)
    assert renders == {"browser": [], "chart": []}
    assert "browser session" not in touched.status
    assert picture(read(touched.outdir, "history.html"), "hb-diagram")[1].count("<svg") == 2


def test_parallel_reading_renders_every_diagram_once(
        project: Path, build, renders: dict[str, list[Any]], tmp_path: Path) -> None:
    """``-j 2``: the pages are read in forked processes, which start no renderer (their
    diagrams are recorded and merged); the main process renders them all in one session
    once reading is done."""
    built = build(project, parallel=2)
    assert built.warnings == ""
    assert len(renders["browser"]) == 1
    assert renders["browser"][0].reading is None  # after reading
    assert sorted(renders["browser"][0]) == ["svg"] * 6
    # a renderer started by a reader would leave its unclaimed drawings behind
    assert not list((tmp_path / "cache").rglob("*.part"))
    assert picture(read(built.outdir, "history.html"), "hb-diagram")[1].count("<svg") == 2
    assert picture(read(built.outdir, "future.html"), "hb-diagram")[1].count("<svg") == 2


LINE = "fill: none; stroke: #1f5fa8; stroke-width: 1.8"  # the chart's line (light), not its dots


def test_troop_chart_breaks_its_line_across_a_gap(project: Path, build) -> None:
    """A ``:gap:`` of two facts: no line across it, the gap shaded and labelled with the
    facts' dates, a row in the table and a sentence in the text alternative."""
    (project / "troops.md").write_text(
        "# Troops\n\n```{troop-chart}\n:gap: troops.combat-end troops.2024 No troops in the "
        "country\n```\n", encoding="utf-8")
    page = read(clean_build(build, project).outdir, "troops.html")
    alt, svg = picture(page, "hb-diagram hb-chart")
    assert alt.endswith("The line breaks for May 2003 \u2013 September 2024: no troops in the "
                        "country.")
    light = svg.split('<div class="only-dark">')[0]
    # two points, one on each side of the gap: two runs of one point, no line between them
    runs = re.findall(rf'<path d="([^"]*)"[^>]*style="{LINE}', light)
    assert len(runs) == 2 and not any("L" in d for d in runs), runs
    assert "No troops in the country" in light and "May 2003 \u2013 September 2024" in light
    rows = [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)]
    assert [r.split(" ")[0:3] for r in rows[1:]] == [["1", "May", "2003"], ["1", "May", "2003"],
                                                    ["27", "September", "2024"]]
    assert rows[2].startswith("1 May 2003 \u2013 27 September 2024 not charted: no troops in "
                              "the country (the line breaks)")


def test_troop_chart_reports_a_point_inside_a_gap_and_unknown_gap_facts(project: Path,
                                                                        build) -> None:
    (project / "troops.md").write_text(
        "# Troops\n\n```{troop-chart}\n:gap: invasion.start troops.2024 No troops\n"
        "```\n\n```{troop-chart}\n:gap: invasion.start troops.2042 No troops\n```\n",
        encoding="utf-8")
    built = build(project)
    assert "point 'troops.combat-end' (2003-05-01) lies inside the gap" in built.warnings
    assert "gap: 'troops.2042' is not a fact id of the registry" in built.warnings


def test_chart_segments_split_only_at_gaps() -> None:
    from handbook_tools.chart import Gap, segments
    from handbook_tools.registry import AsOf, Fact

    def fact(fid: str, iso: str) -> Fact:
        y, m = (int(v) for v in iso.split("-"))
        return Fact(fid, fid, AsOf(y, m), None, [], "", "x.yaml", 1)

    points = [fact("a", "2010-01"), fact("b", "2011-06"), fact("c", "2014-10"),
              fact("d", "2015-01")]
    gap = Gap(fact("end", "2011-12"), fact("back", "2014-06"), "No force")
    assert [[p.id for p in run] for run in segments(points, [gap])] == [["a", "b"], ["c", "d"]]
    assert [[p.id for p in run] for run in segments(points, [])] == [["a", "b", "c", "d"]]


def test_a_browser_that_cannot_start_is_one_message_at_the_first_diagram(
        clean_project: Path, build, monkeypatch: pytest.MonkeyPatch) -> None:
    """The renderer is started while the pages are read; when its browser cannot start,
    the build says so once, at the diagram's line, and shows the diagram's source."""
    monkeypatch.setenv("HANDBOOK_CACHE_DIR", str(clean_project.parent / "cache"))
    monkeypatch.setenv("CHROMIUM", str(clean_project / "no-such-chromium"))
    built = build(clean_project)
    lines = built.warnings.strip().splitlines()
    assert len(lines) == 1, built.warnings
    assert "index.md:7:" in lines[0] and "diagram renderer failed" in lines[0]
    assert "no-such-chromium" in lines[0] and "[handbook.mermaid]" in lines[0]
    assert '<pre class="hb-diagram-failed">' in read(built.outdir, "index.html")
