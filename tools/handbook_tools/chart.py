"""``{troop-chart}``: US troops in Iraq over time, drawn at build time from the registry.

The points are the facts of one numeric series (``series: us-troops-iraq`` by default).
HTML gets light and dark SVGs inline (switched by the theme's mode) with a text
alternative; LaTeX gets a vector PDF. A table of every point, each linked to its fact and
source, follows the chart.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.writers.html5 import HTML5Translator
from sphinx.writers.latex import LaTeXTranslator

from .facts import registry_for_page
from .mermaid import cache_dir, include_pdf, themed_svgs
from .problems import Check
from .registry import Fact

logger = logging.getLogger(__name__)
#: part of every cached chart's name: an edit of the drawing code draws the chart again
CHART_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
THEMES = {
    "light": {"fg": "#222222", "grid": "#cccccc", "line": "#1f5fa8", "bg": "none"},
    "dark": {"fg": "#e6e6e6", "grid": "#555555", "line": "#7fb3ff", "bg": "none"},
}


class troop_chart(nodes.General, nodes.Element):
    """A generated chart: ``files`` maps variant (light, dark, print) to a path."""


def _draw(points: list[Fact], variant: str, out: Path, title: str) -> None:
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
        xs = [p.as_of.first_day for p in points]
        ys = [float(p.number or 0) for p in points]
        # matplotlib converts dates through its units registry; its stubs want numbers
        ax.plot(xs, ys, marker="o", color=colours["line"], linewidth=1.8,  # type: ignore[arg-type]
                markersize=4, drawstyle="default")
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


def alt_text(points: list[Fact], title: str) -> str:
    parts = [f"{p.as_of.month_year()}: {p.value}" for p in points]
    return f"{title}. Line chart on a logarithmic scale. " + "; ".join(parts) + "."


class TroopChartDirective(SphinxDirective):
    has_content = False
    option_spec = {"series": directives.unchanged, "title": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        reg = registry_for_page(self.env)
        series = self.options.get("series", "us-troops-iraq")
        title = self.options.get("title", "US troops in Iraq")
        points = reg.series(series)
        if len(points) < 2:
            logger.warning(f"series {series!r} has {len(points)} point(s): a chart needs two "
                           "or more facts with this 'series' and a 'number'",
                           location=self.get_location(), type="handbook",
                           subtype=Check.SCHEMA.value)
            return []
        key = "|".join(f"{p.id}={p.as_of.iso()}={p.number}" for p in points)
        digest = hashlib.sha256(f"{CHART_VERSION}|{title}|{key}".encode()).hexdigest()[:16]
        folder = cache_dir(self.env)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for variant, ext in (("light", "svg"), ("dark", "svg"), ("print", "pdf")):
            out = folder / f"chart-{digest}-{variant}.{ext}"
            if not out.is_file():
                _draw(points, variant, out, title)
            files[variant] = str(out)
        node = troop_chart(files=files, alt=alt_text(points, title), digest=digest)
        node.source, node.line = self.get_source_info()
        lines = ["```{list-table} Every point of the chart, with its source",
                 ":header-rows: 1", ":widths: 25 35 40", ":class: hb-chart-table hb-no-check", "",
                 "* - As of", "  - US troops in Iraq", "  - Fact and source"]
        for p in points:
            lines += [f"* - {p.as_of.long()}", f"  - {p.value}", f"  - {{fact:value}}`{p.id}`"]
        lines.append("```")
        return [node, *self.parse_text_to_nodes("\n".join(lines))]


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
