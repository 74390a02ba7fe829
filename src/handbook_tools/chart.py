"""``{troop-chart}``: US troops in Iraq over time, drawn at build time from the registry.

The points are the facts of one numeric series (``series: us-troops-iraq`` by default).
HTML gets light and dark SVGs inline (switched by the theme's mode) with a text
alternative; LaTeX gets a vector PDF. A table of every point, each linked to its fact and
source, follows the chart.

A period with no force to count is a *gap*, named by the option ``:gap:`` with two fact ids
(kind ``date`` or any dated fact) and what the gap was, one gap a line::

    :gap: h.withdrawal.last-troops oir.advisers.up-to-300-2014 No US combat force in Iraq

The line is not drawn across a gap: it stops at the last point before the gap's start and
starts again at the first point after its end; the gap is shaded and labelled on the chart
with its dates from the two facts, and has a row of its own in the table. A point dated
inside a gap is reported (the data then contradicts itself).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.writers.html5 import HTML5Translator
from sphinx.writers.latex import LaTeXTranslator

from .pictures import cache_dir, include_pdf, themed_svgs
from .problems import Check, warn
from .registry import Fact, suggest
from .state import registry_for_page

#: part of every cached chart's name: an edit of the drawing code draws the chart again
CHART_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
THEMES = {
    "light": {"fg": "#222222", "grid": "#cccccc", "line": "#1f5fa8", "bg": "none"},
    "dark": {"fg": "#e6e6e6", "grid": "#555555", "line": "#7fb3ff", "bg": "none"},
}


class troop_chart(nodes.General, nodes.Element):
    """A generated chart: ``files`` maps variant (light, dark, print) to a path."""


@dataclass(frozen=True)
class Gap:
    """A period with no force to count: from the date of ``start`` to that of ``end``."""

    start: Fact
    end: Fact
    label: str

    def span(self) -> str:
        """'December 2011 – June 2014'."""
        return f"{self.start.as_of.month_year()} \u2013 {self.end.as_of.month_year()}"

    def holds(self, point: Fact) -> bool:
        return self.start.as_of.first_day < point.as_of.first_day < self.end.as_of.first_day


def segments(points: list[Fact], gaps: Sequence[Gap]) -> list[list[Fact]]:
    """The points in runs to join with a line: a new run starts after each gap."""
    runs: list[list[Fact]] = []
    for point in points:
        if runs and not any(runs[-1][-1].as_of.first_day <= g.start.as_of.first_day
                            and g.end.as_of.first_day <= point.as_of.first_day for g in gaps):
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def _draw(points: list[Fact], variant: str, out: Path, title: str,
          gaps: Sequence[Gap] = ()) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = THEMES["light" if variant == "print" else variant]
    rc: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": f"hb-chart-{variant}",
          "pdf.fonttype": 42, "font.family": "DejaVu Sans", "font.size": 12,
          "axes.edgecolor": colours["fg"], "axes.labelcolor": colours["fg"],
          "xtick.color": colours["fg"], "ytick.color": colours["fg"],
          "text.color": colours["fg"]}
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(7, 4.2))  # text stays legible on a phone
        ys = [float(p.number or 0) for p in points]
        # one line a run of points: never drawn across a gap
        for run in segments(points, gaps):
            # matplotlib converts dates through its units registry; its stubs want numbers
            ax.plot([p.as_of.first_day for p in run],  # type: ignore[arg-type]
                    [float(p.number or 0) for p in run], marker="o", color=colours["line"],
                    linewidth=1.8, markersize=4, drawstyle="default")
        for gap in gaps:
            start, end = gap.start.as_of.first_day, gap.end.as_of.first_day
            ax.axvspan(start, end, color=colours["grid"], alpha=0.35,  # type: ignore[arg-type]
                       linewidth=0)
            # level text (rotated words would print and measure badly), from inside the
            # band into the empty space above the points that follow the gap
            ax.text(start + (end - start) / 12, 0.82,  # type: ignore[arg-type]
                    f"{gap.label},\n{gap.span()}", transform=ax.get_xaxis_transform(),
                    ha="left", va="top", fontsize=10, linespacing=1.3)
        ax.set_yscale("symlog", linthresh=1000)
        ax.set_ylabel("US troops in Iraq (log scale)")
        ax.grid(True, color=colours["grid"], linewidth=0.5)
        # label 1-2-5 steps, so a reader can read a value off the axis between decades
        ax.yaxis.set_major_locator(matplotlib.ticker.FixedLocator(
            [m * 10 ** e for e in range(3, 6) for m in (1, 2, 5)]))
        ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_ylim(bottom=min([1000.0, *ys]))  # the lowest label (1,000) stays on the axis
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _pos: f"{int(v):,}"))
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        ax.set_title(title, fontsize=13)
        fig.patch.set_alpha(0.0)
        ax.patch.set_alpha(0.0)
        fig.tight_layout()
        tmp = out.with_suffix(out.suffix + ".part")
        metadata = {"Date": None} if out.suffix == ".svg" else {"CreationDate": None}
        fig.savefig(tmp, format=out.suffix[1:], metadata=metadata, transparent=True)
        plt.close(fig)
        os.replace(tmp, out)


def alt_text(points: list[Fact], title: str, gaps: Sequence[Gap] = ()) -> str:
    parts = [f"{p.as_of.month_year()}: {p.value}" for p in points]
    breaks = "".join(f" The line breaks for {g.span()}: {g.label[:1].lower()}{g.label[1:]}."
                     for g in gaps)
    return f"{title}. Line chart on a logarithmic scale. " + "; ".join(parts) + "." + breaks


def parse_gaps(text: str) -> list[tuple[str, str, str]]:
    """``:gap:`` lines as (start fact id, end fact id, label)."""
    out = []
    for line in text.splitlines():
        words = line.split(None, 2)
        if not words:
            continue
        if len(words) < 3:
            raise ValueError(f"gap {line.strip()!r}: give a start fact id, an end fact id and "
                             "what the gap was")
        out.append((words[0], words[1], words[2].strip()))
    return out


class TroopChartDirective(SphinxDirective):
    has_content = False
    option_spec = {"series": directives.unchanged, "title": directives.unchanged,
                   "gap": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        reg = registry_for_page(self.env)
        series = self.options.get("series", "us-troops-iraq")
        title = self.options.get("title", "US troops in Iraq")
        points = reg.series(series)
        if len(points) < 2:
            warn(Check.SCHEMA, f"series {series!r} has {len(points)} point(s): a chart needs two "
                 "or more facts with this 'series' and a 'number'", self.get_location())
            return []
        gaps = self._gaps(reg.facts)
        for gap in gaps:
            for p in points:
                if gap.holds(p):
                    warn(Check.SCHEMA, f"point {p.id!r} ({p.as_of.iso()}) lies inside the gap "
                         f"{gap.start.id} \u2013 {gap.end.id}: correct the point or "
                         "the gap", self.get_location())
        key = "|".join(f"{p.id}={p.as_of.iso()}={p.number}" for p in points)
        key += "|".join(f"|gap={g.start.as_of.iso()}={g.end.as_of.iso()}={g.label}"
                        for g in gaps)
        digest = hashlib.sha256(f"{CHART_VERSION}|{title}|{key}".encode()).hexdigest()[:16]
        folder = cache_dir(self.env, "charts")
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for variant, ext in (("light", "svg"), ("dark", "svg"), ("print", "pdf")):
            out = folder / f"chart-{digest}-{variant}.{ext}"
            if not out.is_file():
                _draw(points, variant, out, title, gaps)
            files[variant] = str(out)
        node = troop_chart(files=files, alt=alt_text(points, title, gaps), digest=digest)
        node.source, node.line = self.get_source_info()
        lines = ["```{list-table} Every point of the chart, with its source",
                 ":header-rows: 1", ":widths: 25 35 40", ":class: hb-chart-table hb-no-check", "",
                 "* - As of", "  - US troops in Iraq", "  - Fact and source"]
        rows = [(p.as_of.first_day, [f"* - {p.as_of.long()}", f"  - {p.value}",
                                     f"  - {{fact:value}}`{p.id}`"]) for p in points]
        rows += [(g.start.as_of.first_day,
                  [f"* - {g.start.as_of.long()} \u2013 {g.end.as_of.long()}",
                   f"  - not charted: {g.label[:1].lower()}{g.label[1:]} (the line breaks)",
                   f"  - {{fact:date}}`{g.start.id}` to {{fact:date}}`{g.end.id}`"])
                 for g in gaps]
        for _, row in sorted(rows, key=lambda r: r[0]):  # stable: a gap after its start point
            lines += row
        lines.append("```")
        return [node, *self.parse_text_to_nodes("\n".join(lines))]

    def _gaps(self, facts: dict[str, Fact]) -> list[Gap]:
        try:
            wanted = parse_gaps(self.options.get("gap", ""))
        except ValueError as err:
            warn(Check.SCHEMA, str(err), self.get_location())
            return []
        gaps = []
        for start_id, end_id, label in wanted:
            unknown = [i for i in (start_id, end_id) if i not in facts]
            if unknown:
                warn(Check.UNKNOWN_FACT, f"gap: {unknown[0]!r} is not a fact id of the registry"
                     f"{suggest(unknown[0], facts)}", self.get_location())
                continue
            gap = Gap(facts[start_id], facts[end_id], label)
            if gap.end.as_of.first_day <= gap.start.as_of.first_day:
                warn(Check.SCHEMA, f"gap: {end_id!r} ({gap.end.as_of.iso()}) is not after "
                     f"{start_id!r} ({gap.start.as_of.iso()})", self.get_location())
                continue
            gaps.append(gap)
        return gaps


def html_visit(self: HTML5Translator, node: troop_chart) -> None:
    files = node["files"]
    themed_svgs(self, node, "hb-diagram hb-chart", node["alt"], Path(files["light"]),
                Path(files["dark"]))
    raise nodes.SkipNode


def latex_visit(self: LaTeXTranslator, node: troop_chart) -> None:
    include_pdf(self, node, Path(node["files"]["print"]), f"chart-{node['digest']}.pdf",
                "width=\\linewidth")
    raise nodes.SkipNode


def text_visit(self: nodes.NodeVisitor, node: troop_chart) -> None:
    raise nodes.SkipNode


def setup_chart(app: Sphinx) -> None:
    app.add_node(troop_chart, html=(html_visit, None), latex=(latex_visit, None),
                 text=(text_visit, None), man=(text_visit, None), texinfo=(text_visit, None))
    app.add_directive("troop-chart", TroopChartDirective)
