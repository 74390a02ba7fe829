"""Pictures drawn at build time, as HTML and LaTeX show them, and the cache they are kept in.

Diagrams (:mod:`handbook_tools.mermaid`), charts (:mod:`handbook_tools.chart`) and the cut
icon font (:mod:`handbook_tools.icons`) each keep their files in a folder of their own
under one cache root (:func:`cache_dir`).  HTML gets a picture's light and dark SVGs inline
as one image (:func:`themed_svgs`); LaTeX a vector PDF, its time stamps blanked so two
builds give the same bytes (:func:`include_pdf`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes

if TYPE_CHECKING:
    from sphinx.environment import BuildEnvironment
    from sphinx.writers.html5 import HTML5Translator
    from sphinx.writers.latex import LaTeXTranslator


def write_atomic(path: Path, data: bytes) -> None:
    """Write PATH through a ``.part`` file and a rename, so a killed build never leaves a
    half-written file (in the cache or the output) for the next build to trust."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON that :func:`write_json` kept at PATH; DEFAULT when there is none or it
    cannot be read (a cache that is missing or damaged is rebuilt, never trusted)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def write_json(path: Path, data: Any) -> None:
    """Keep DATA as JSON at PATH (keys sorted, so the same data gives the same bytes),
    atomically."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def cache_dir(env: BuildEnvironment, kind: str) -> Path:
    """Where outputs of one kind (``diagrams``, ``charts``, ``icons``; also ``compressed``
    and ``purged-css`` copies) are kept between builds: a folder named for them under
    ``HANDBOOK_CACHE_DIR``, else under ``handbook_cache_dir`` (relative to the source
    folder), else beside the doctrees."""
    configured = os.environ.get("HANDBOOK_CACHE_DIR") or env.config.handbook_cache_dir
    base = Path(env.srcdir, configured) if configured else Path(env.doctreedir).parent
    return Path(base, kind)


_LABEL_P = re.compile(r"<span(\s[^>]*)?>(<p>(?:(?!</?p>).)*</p>)</span>", re.S)


def _svg_markup(path: Path) -> str:
    """The SVG of ``path`` as valid inline HTML (the Nu validator passes it).

    - ids get the file's prefix ``hb-<stem>-`` (references too), so the light and dark
      copies of a chart on one page have no id in common (matplotlib's ``figure_1``...);
    - matplotlib's RDF ``<metadata>`` goes: foreign namespaces are not allowed in HTML;
    - the root's ARIA ``role`` goes: the SVG is ``aria-hidden``, the wrapper is the image;
    - Mermaid's empty ``<rect/>`` gets its (SVG 2 default) zero size;
    - Mermaid's label ``<span><p>`` becomes ``<div><p>``: a block inside an inline element
      is not allowed, and an inline holding only a block renders as a block anyway.
    """
    text = path.read_text(encoding="utf-8")
    start = text.find("<svg")
    svg = text[start:] if start >= 0 else text
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    head_end = svg.find(">")
    svg = re.sub(r'\srole="[^"]*"', "", svg[:head_end], count=1) + svg[head_end:]
    svg = svg.replace("<rect/>", '<rect width="0" height="0"/>')
    svg = _LABEL_P.sub(r"<div\1>\2</div>", svg)
    prefix = f"hb-{path.stem}"  # Mermaid's ids already start with it (its svgId)
    own = sorted({i for i in re.findall(r'\sid="([^"]+)"', svg) if not i.startswith(prefix)},
                 key=len, reverse=True)
    if own:
        alt = "|".join(re.escape(i) for i in own)
        svg = re.sub(rf'(\sid="|href="#|url\(#)({alt})(?=[")])',
                     lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


def themed_svgs(self: HTML5Translator, node: nodes.Element, classes: str, alt: str,
                light: Path, dark: Path) -> None:
    """Light and dark SVGs inline, switched by the theme's mode, as one image with ``alt``.

    The node's first id (a label placed before the directive) becomes the element's id.
    An EPUB gets the light SVG only: e-readers have no theme switch to hide the other one."""
    ident = f' id="{node["ids"][0]}"' if node.get("ids") else ""
    if self.builder.name == "epub":
        self.body.append(f'<div{ident} class="{classes}" role="img" '
                         f'aria-label="{self.attval(alt)}">{_svg_markup(light)}</div>\n')
        return
    self.body.append(
        f'<div{ident} class="{classes}" role="img" aria-label="{self.attval(alt)}">'
        f'<div class="only-light">{_svg_markup(light)}</div>'
        f'<div class="only-dark">{_svg_markup(dark)}</div></div>\n')


#: the time stamps Chromium writes into every PDF: the time of rendering
PDF_DATES = re.compile(rb"/(?:CreationDate|ModDate)\s*\((?:[^()\\]|\\.)*\)")


def without_dates(pdf: bytes) -> bytes:
    """The PDF with its creation and modification dates blanked out (replaced by spaces of
    the same length, so every byte offset of the file stays valid): two builds of the same
    diagram then give the same bytes."""
    return PDF_DATES.sub(lambda m: b" " * len(m.group(0)), pdf)


def include_pdf(self: LaTeXTranslator, node: nodes.Element, source: Path, name: str,
                size: str, floating: bool = False) -> None:
    """Copy a vector PDF into the LaTeX output and include it, centred, as the node.

    ``floating``: in a float without caption, which LaTeX may move to the next page when the
    picture does not fit under the text before it (no half-empty page before a tall one)."""
    # a MyST label just before the picture, ``(name)=``, is labelled by Sphinx's own
    # visit_target; labelling its id again would make LaTeX warn "multiply defined"
    done: set[str] = set()
    if node.parent is not None:
        for sibling in reversed(node.parent.children[:node.parent.index(node)]):
            if not isinstance(sibling, nodes.target):
                break
            done.add(sibling.get("refid", ""))
    self.body.append("".join(self.hypertarget(i, anchor=False) for i in node["ids"]
                             if i not in done))
    Path(self.builder.outdir, name).write_bytes(without_dates(source.read_bytes()))
    env = ("figure}[htbp]\\centering", "figure}") if floating else ("center}", "center}")
    self.body.append(f"\n\\begin{{{env[0]}\\sphinxincludegraphics[{size}]{{{name}}}"
                     f"\\end{{{env[1]}\n")
