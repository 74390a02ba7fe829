"""Mermaid diagrams rendered at build time, all in one browser session, cached by content.

sphinxcontrib-mermaid keeps its directive (and MyST ```` ```mermaid ```` fences through
``myst_fence_as_directive``); this module replaces its writers:

- the variants the builder needs (light and dark SVG for HTML, PDF for LaTeX) that are
  not in the cache are rendered by ``render-mermaid.mjs`` (:mod:`.nodepackages`) in ONE
  Chromium session (:class:`.nodepackages.RenderSession`), started when the first page with such a
  diagram has been read and fed each diagram as its page is read, so that the browser
  draws while Sphinx reads the other pages; after reading, every diagram of the project
  is collected, what was not sent yet is sent, and the results are awaited;
- HTML gets the SVGs inline (light and dark, switched by the theme's mode) inside an
  element with ``role="img"`` and the diagram's ``:alt:`` text; LaTeX gets vector PDF,
  laid out for the A4 page (:data:`VARIANT_CONFIG`, a generated diagram's own print
  layout, :data:`PRINT_SCALE`), so its smallest text prints at 7 pt or more;
- a diagram mermaid cannot parse is reported at its page's ``file:line`` with mermaid's
  own message, and its source is shown in place of the picture (never dropped silently).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.writers.html5 import HTML5Translator
from sphinx.writers.latex import LaTeXTranslator
from sphinxcontrib.mermaid import (
    Mermaid,
    figure_wrapper,
    html_visit_mermaid,
    latex_visit_mermaid,
    mermaid,
)

from .nodepackages import RenderSession
from .pictures import cache_dir, include_pdf, themed_svgs
from .problems import Check, warn
from .state import keep_page_records, page_records

logger = logging.getLogger(__name__)

#: the environment's attribute holding each page's diagrams
RECORDS = "handbook_diagrams"
#: bump to re-render every cached diagram after a change of how they are drawn
RENDER_VERSION = "3"
VARIANTS = {"html": (("light", "svg", "default"), ("dark", "svg", "dark")),
            "latex": (("print", "pdf", "neutral"),),
            # an e-reader's page is small like paper: the light SVG of the print layout
            "epub": (("ereader", "svg", "default"),),
            # `make check` (the dummy builder) renders the light variant to validate diagrams
            "dummy": (("light", "svg", "default"),)}
#: Mermaid configuration per variant, on top of its theme. Part of every diagram's cache key,
#: so a change here re-renders the cached diagrams.
VARIANT_CONFIG: dict[str, dict[str, Any]] = {
    # Mermaid's dark theme puts edge labels (#ccc text) on hsl(0,0%,34%): 4.4:1, under the
    # 4.5:1 of WCAG AA. A darker label background gives #ccc about 7.6:1.
    "dark": {"themeVariables": {"edgeLabelBackground": "#333333"}},
    # The page is narrower than a screen: labels wrap at 250 px (not 200) and boxes sit
    # closer, so a diagram's text stays large when it is scaled to the text width.
    "print": {"flowchart": {"wrappingWidth": 250, "nodeSpacing": 20, "rankSpacing": 30}},
}
VARIANT_CONFIG["ereader"] = VARIANT_CONFIG["print"]
#: the variants drawn from a generated diagram's print layout (its ``print_code``)
PAGE_VARIANTS = ("print", "ereader")
#: the browser's window when a PDF variant is drawn: wide enough that Chromium never
#: shrinks a wide diagram to fit (at its default 800 px it does, and its text with it)
PDF_VIEWPORT = {"width": 2400, "height": 1600}
#: the size of a diagram on the page, against its size as drawn: Mermaid's 16 px labels
#: print at about 10 pt; LaTeX scales a diagram down further only to fit the text width
#: or height (tests/test_book.py checks that no word prints under 7 pt)
PRINT_SCALE = 0.6


class HandbookMermaid(Mermaid):
    """sphinxcontrib-mermaid's directive, keeping the source line on the node."""

    def run(self, **kwargs: Any) -> list[nodes.Node]:
        result = super().run(**kwargs)
        for node in result:
            for mm in node.findall(mermaid) if isinstance(node, nodes.Element) else []:
                mm.source, mm.line = self.state_machine.get_source_and_line(self.lineno)
        return result


@dataclass(frozen=True)
class Diagram:
    docname: str
    line: int
    code: str
    alt: str | None
    #: the layout for the page, when it differs from the screen's (generated diagrams)
    print_code: str | None = None

    def code_for(self, variant: str) -> str:
        return self.print_code if variant in PAGE_VARIANTS and self.print_code else self.code


#: the renderer script's own digest: an edit of render-mermaid.mjs re-renders the diagrams
RENDERER_DIGEST = hashlib.sha256(
    (Path(__file__).parent / "render-mermaid.mjs").read_bytes()).hexdigest()[:16]


def diagram_hash(code: str) -> str:
    config = json.dumps([VARIANT_CONFIG, PDF_VIEWPORT], sort_keys=True)
    key = f"{RENDER_VERSION}\0{RENDERER_DIGEST}\0{config}\0{code}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def variant_path(env: BuildEnvironment, digest: str, name: str, ext: str) -> Path:
    return cache_dir(env, "diagrams") / f"{digest}-{name}.{ext}"


def page_diagrams(tree: nodes.document, docname: str) -> list[Diagram]:
    return [Diagram(docname, node.line or 0, node["code"], node.get("alt"),
                    node.get("print_code")) for node in tree.findall(mermaid)]


def recorded(env: BuildEnvironment) -> dict[str, list[Diagram]]:
    """docname -> its diagrams, noted when the page is read and kept in the environment,
    so that collecting them does not unpickle every page's doctree on every build."""
    return page_records(env, RECORDS)


def record_diagrams(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: note the diagrams of the page just read."""
    env = app.env
    diagrams = recorded(env)[env.docname] = page_diagrams(doctree, env.docname)
    _feed(app, diagrams)


def collect(env: BuildEnvironment) -> list[Diagram]:
    """Every diagram of the project, page by page (from the pickled doctree for a page
    read without this extension's record)."""
    pages = recorded(env)
    found = []
    for docname in sorted(env.all_docs):
        if docname in pages:
            found.extend(pages[docname])
        else:
            found.extend(page_diagrams(env.get_doctree(docname), docname))
    return found


def clean_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if "mermaid-cli-intercept" not in ln
             and "chunk-" not in ln and ln.strip()]
    return " ".join(lines)


def start_session(app: Sphinx) -> RenderSession:
    """Launch the renderer; its browser starts at once."""
    return RenderSession(app)


@dataclass
class _Pending:
    """This build's renderer, if started, and the process that may feed it while
    reading (the one that started the build)."""

    session: RenderSession | None = None
    pid: int = field(default_factory=os.getpid)


def start_build(app: Sphinx) -> None:
    """``builder-inited``: no renderer yet; only this process may start one while reading."""
    app._handbook_render_session = _Pending()  # type: ignore[attr-defined]


def _pending(app: Sphinx) -> _Pending | None:
    return getattr(app, "_handbook_render_session", None)


def _variants(app: Sphinx) -> tuple[tuple[str, str, str], ...] | None:
    if not app.config.handbook_render_diagrams:
        return None
    return VARIANTS.get(app.builder.name) or VARIANTS.get(app.builder.format)


def _jobs(env: BuildEnvironment, diagram: Diagram,
          variants: tuple[tuple[str, str, str], ...]) -> list[dict[str, Any]]:
    """The renderer's jobs for the variants of DIAGRAM that are not in the cache."""
    jobs = []
    for name, ext, theme in variants:
        code = diagram.code_for(name)
        digest = diagram_hash(code)
        out = variant_path(env, digest, name, ext)
        if out.is_file():
            continue
        # drawn to a temporary name, renamed when the build has its result: an
        # interrupted run never leaves a half file in the cache
        jobs.append({"code": code, "format": ext, "theme": theme,
                     "config": VARIANT_CONFIG.get(name, {}),
                     "viewport": PDF_VIEWPORT if ext == "pdf" else None,
                     "svgId": f"hb-{digest}-{name}", "out": f"{out}.part",
                     "final": str(out), "digest": digest})
    return jobs


def _feed(app: Sphinx, diagrams: list[Diagram]) -> None:
    """Send the uncached variants of DIAGRAMS to this build's renderer, starting it with
    the first. Only in the process that started the build: a parallel reader (``-j``)
    leaves its pages' diagrams to :func:`render_all`, in the main process, which collects
    every page's diagrams anyway."""
    variants = _variants(app)
    pending = _pending(app)
    if not variants or pending is None or os.getpid() != pending.pid:
        return
    for diagram in diagrams:
        for job in _jobs(app.env, diagram, variants):
            if pending.session is None:
                pending.session = start_session(app)
            pending.session.send(job)


def render_all(app: Sphinx, env: BuildEnvironment) -> None:
    """Render, in one browser session, every variant the builder needs and lacks: send
    what reading did not send already, then wait for every result. Errors are reported
    here, at each diagram's page and line, whichever sent the job."""
    pending = _pending(app)
    session = None
    if pending is not None:
        session, pending.session = pending.session, None
    variants = _variants(app)
    if not variants:
        return
    diagrams = collect(env)
    by_digest: dict[str, list[Diagram]] = {}
    jobs: dict[str, dict[str, Any]] = {}  # final path -> job
    for diagram in diagrams:
        if not diagram.alt and app.config.handbook_checks:
            warn(Check.MERMAID, "diagram has no text alternative: add an ':alt:' option that "
                 "says in words what it shows", (diagram.docname, diagram.line))
        for name, _ext, _theme in variants:
            digest = diagram_hash(diagram.code_for(name))
            if diagram not in by_digest.setdefault(digest, []):
                by_digest[digest].append(diagram)
        for job in _jobs(env, diagram, variants):
            jobs.setdefault(job["final"], job)
    if session is None and not jobs:
        return
    if session is None:
        session = start_session(app)
    for job in jobs.values():
        session.send(job)
    logger.info(f"rendering {len(session.sent)} diagram variant(s) in one browser session")
    results = session.finish()
    if isinstance(results, str):
        # a set-up error: said once, at the first diagram that needed the renderer
        first = next((by_digest[j["digest"]][0] for j in session.sent.values()
                      if by_digest.get(j["digest"])), diagrams[0] if diagrams else None)
        warn(Check.MERMAID, results, (first.docname, first.line) if first else None)
        return
    errors: dict[str, str] = {}  # diagram hash -> mermaid's error message
    for final, res in results.items():
        job = session.sent[final]
        if res.get("ok"):
            os.replace(job["out"], final)
        elif job["digest"] not in errors:
            errors[job["digest"]] = clean_error(res.get("error") or "unknown error")
    for digest, message in errors.items():
        for diagram in by_digest.get(digest, []):
            warn(Check.MERMAID, f"Mermaid cannot render this diagram: {message}",
                 (diagram.docname, diagram.line))


def close_session(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: a renderer still running (the build stopped before
    ``env-updated``) is stopped."""
    pending = _pending(app)
    if pending is not None and pending.session is not None:
        pending.session.close()
        pending.session = None


_MEDIABOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")


def print_size(pdf: Path, scale: float = PRINT_SCALE) -> str:
    """``width=..,height=..`` of the PDF's first page times ``scale``, for
    ``\\sphinxincludegraphics`` (which scales it down further only to fit the text area)."""
    m = _MEDIABOX.search(pdf.read_bytes())
    if m is None:
        return "width=\\linewidth"
    x0, y0, x1, y1 = (float(v) for v in m.groups())
    return f"width={(x1 - x0) * scale:.1f}pt,height={(y1 - y0) * scale:.1f}pt"


def mermaid_label(text: str) -> str:
    """Data text safe inside a quoted label of a generated diagram: '"' would end the label
    and '#' start an entity code; line breaks and runs of spaces become one space."""
    return " ".join(text.replace('"', "'").replace("#", "#35;").split())


def generated_diagram(directive: SphinxDirective, code: str, alt: str,
                      print_code: str | None = None) -> list[nodes.Node]:
    """A diagram drawn from data, as a Mermaid node (rendered like any other), placed in a
    figure when the directive has a ``:caption:``. ``print_code``: its layout for the PDF
    page, when that differs from the screen's."""
    node = mermaid()
    node["code"], node["options"], node["alt"] = code, {}, alt
    if print_code and print_code != code:
        node["print_code"] = print_code
    node.source, node.line = directive.get_source_info()
    if "caption" not in directive.options:
        return [node]
    figure = figure_wrapper(directive, node, directive.options["caption"])
    figure.source, figure.line = node.source, node.line
    return [figure]


def html_visit(self: HTML5Translator, node: mermaid) -> None:
    if not self.config.handbook_render_diagrams:
        html_visit_mermaid(self, node)  # stock: client-side mermaid
        return
    alt = node.get("alt") or "Diagram"
    if self.builder.name == "epub":  # light only, laid out for a small page like print
        digest = diagram_hash(node.get("print_code") or node["code"])
        light = dark = variant_path(self.builder.env, digest, "ereader", "svg")
    else:
        digest = diagram_hash(node["code"])
        light = variant_path(self.builder.env, digest, "light", "svg")
        dark = variant_path(self.builder.env, digest, "dark", "svg")
    if light.is_file() and dark.is_file():
        themed_svgs(self, node, "hb-diagram", alt, light, dark)
    else:
        self.body.append(f'<pre class="hb-diagram-failed">{self.encode(node["code"])}</pre>\n')
    raise nodes.SkipNode


def latex_visit(self: LaTeXTranslator, node: mermaid) -> None:
    if not self.config.handbook_render_diagrams:
        latex_visit_mermaid(self, node)  # stock: one mermaid-cli process per diagram
        return
    digest = diagram_hash(node.get("print_code") or node["code"])
    pdf = variant_path(self.builder.env, digest, "print", "pdf")
    if pdf.is_file():
        include_pdf(self, node, pdf, f"mermaid-{digest}.pdf", print_size(pdf),
                    floating=not isinstance(node.parent, nodes.figure))
    else:
        self.body.append(self.hypertarget_to(node))
        self.body.append("\n\\begin{sphinxVerbatim}\n" + node["code"] + "\n\\end{sphinxVerbatim}\n")
    raise nodes.SkipNode


def no_client_side_mermaid(app: Sphinx, config: Any) -> None:
    """Diagrams are pre-rendered: never let sphinxcontrib-mermaid add its loader script,
    which imports mermaid from a CDN on pages without a doctree (search, genindex).

    With ``handbook_render_diagrams = False`` (the benchmark's stock baseline) the
    extension's own settings are left as they are."""
    if config.handbook_render_diagrams:
        config.mermaid_output_format = "svg"


def setup_mermaid(app: Sphinx) -> None:
    app.setup_extension("sphinxcontrib.mermaid")
    app.add_directive("mermaid", HandbookMermaid, override=True)
    app.add_node(mermaid, override=True, html=(html_visit, None), latex=(latex_visit, None))
    app.connect("doctree-read", record_diagrams, priority=900)
    keep_page_records(app, RECORDS)
    app.connect("builder-inited", start_build)
    app.connect("env-updated", render_all)
    app.connect("build-finished", close_session)
    app.connect("config-inited", no_client_side_mermaid)
