"""Data downloads, written into the HTML output's ``data/`` folder after each HTML build.

- ``us-troops-iraq.csv``: the troop chart's series (facts with ``series: us-troops-iraq``);
- ``facts.csv`` and ``facts.json``: the whole fact register, with each fact's best source's
  standing and every source's URL and publisher;
- ``sources.bib``: a copy of the bibliography;
- ``README.txt``: what each file holds, and the licence (CC BY 4.0, as the text).

The files are deterministic: rows sorted by id (the series by date), numbers written as
integers when whole, else in Python's shortest round-trip form, LF line ends.
``{data-file}`facts.csv``` links to one of them from a page (HTML); other formats (PDF,
EPUB) show the file's path in the HTML edition as text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxRole

from .pictures import cache_dir, read_json, write_json
from .problems import Check, warn
from .publishers import Attribution, best_standing
from .registry import Fact, Registry
from .state import bib_paths, get_attributions, get_registry

FOLDER = "data"
SERIES = "us-troops-iraq"
FILES = ("us-troops-iraq.csv", "facts.csv", "facts.json", "sources.bib", "README.txt")
HTML_BUILDERS = ("html", "singlehtml")
LICENCE = "CC-BY-4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
FACT_COLUMNS = ("id", "kind", "value", "number", "unit", "as_of", "review_by", "standing",
                "caveat", "disputed", "sources", "source_urls", "publishers", "excerpt")
README = f"""\
Data of the handbook "US Forces in Iraq: A Reference Handbook", edition {{version}}.

us-troops-iraq.csv  the troop chart's points: date, US troops, the value as the book gives
                    it, the fact id, its sources and their best standing
facts.csv           the whole fact register, one row per fact (several sources, URLs and
                    publishers in one cell are separated by " | ")
facts.json          the same register as JSON, each source with its URL, publisher and
                    standing, and this licence in "license"
sources.bib         the bibliography (BibTeX)

Licence: Creative Commons Attribution 4.0 International ({LICENCE}),
{LICENCE_URL}
Attribute "The Iraq Handbook contributors", with the edition. Quoted source excerpts remain
their publishers' and are quoted for verification only.
"""


def number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def source_records(fact: Fact, reg: Registry, atts: dict[str, Attribution]
                   ) -> list[dict[str, str]]:
    out = []
    for key in fact.sources:
        src = reg.sources.get(key)
        att = atts.get(key)
        out.append({"key": key, "title": src.fields.get("title", "") if src else "",
                    "url": src.url if src else "",
                    "publisher": att.who() if att else "",
                    "standing": att.standing if att else ""})
    return out


def fact_record(fact: Fact, reg: Registry, atts: dict[str, Attribution]) -> dict[str, Any]:
    return {"id": fact.id, "kind": fact.kind, "value": str(fact.value),
            "number": fact.number, "unit": fact.unit or "", "as_of": fact.as_of.iso(),
            "review_by": fact.review_by.isoformat() if fact.review_by else "never",
            "standing": (best_standing(fact, atts) or "") if atts else "",
            "caveat": (fact.caveat or "").strip(), "disputed": (fact.disputed or "").strip(),
            "sources": source_records(fact, reg, atts), "excerpt": fact.excerpt.strip()}


def _csv(header: tuple[str, ...], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def facts_csv(records: list[dict[str, Any]]) -> str:
    rows = []
    for r in records:
        srcs = r["sources"]
        rows.append([r["id"], r["kind"], r["value"], number_text(r["number"]), r["unit"],
                     r["as_of"], r["review_by"], r["standing"], r["caveat"], r["disputed"],
                     " | ".join(s["key"] for s in srcs), " | ".join(s["url"] for s in srcs),
                     " | ".join(s["publisher"] for s in srcs), r["excerpt"]])
    return _csv(FACT_COLUMNS, rows)


def series_csv(reg: Registry, atts: dict[str, Attribution]) -> str:
    rows = [[f.as_of.iso(), number_text(f.number), str(f.value), f.id,
             " | ".join(f.sources), (best_standing(f, atts) or "") if atts else ""]
            for f in reg.series(SERIES)]
    return _csv(("date", "us_troops", "value", "fact_id", "sources", "standing"), rows)


def render_files(reg: Registry, atts: dict[str, Attribution], bib: str, version: str,
                 title: str) -> dict[str, str]:
    records = [fact_record(f, reg, atts) for f in sorted(reg.facts.values(), key=lambda f: f.id)]
    doc = {"title": title, "edition": version, "license": LICENCE, "license_url": LICENCE_URL,
           "attribution": "The Iraq Handbook contributors",
           "note": "Quoted source excerpts remain their publishers' and are quoted for "
                   "verification only.", "facts": records}
    return {"us-troops-iraq.csv": series_csv(reg, atts), "facts.csv": facts_csv(records),
            "facts.json": json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            "sources.bib": bib, "README.txt": README.format(version=version)}


def cached_files(app: Sphinx) -> dict[str, str]:
    """The downloads' texts, rendered again only when an input changed: they are kept in
    the cache under a hash of the data files' bytes, the edition, the title and the
    extension's code."""
    from . import _code_version

    reg = get_registry(app.env)
    digest = hashlib.sha256(f"{_code_version()}\0{app.config.version}\0"
                            f"{app.config.project}\0".encode())
    for path in sorted({*reg.files, *bib_paths(app.env)}):
        digest.update(str(path).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"-")
    cached = cache_dir(app.env, "downloads") / f"{digest.hexdigest()[:24]}.json"
    found = read_json(cached)
    if isinstance(found, dict) and set(found) == set(FILES):
        return found
    bib = "".join(p.read_text(encoding="utf-8") for p in bib_paths(app.env) if p.is_file())
    files = render_files(reg, get_attributions(app.env), bib, str(app.config.version),
                         str(app.config.project))
    write_json(cached, files)
    return files


def write_downloads(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name not in HTML_BUILDERS:
        return
    files = cached_files(app)
    folder = Path(app.outdir, FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)


class DataFileRole(SphinxRole):
    """``{data-file}`facts.csv```: a link to a download (HTML), its path elsewhere."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        name = self.text.strip()
        if name not in FILES:
            warn(Check.SCHEMA, f"{{data-file}}`{name}`: not a download (one of: "
                 f"{', '.join(FILES)})", self.get_location())
        node = nodes.reference(self.rawtext, "", nodes.literal(text=name),
                               refuri=f"{FOLDER}/{name}", classes=["hb-data-file"])
        node["hb_data_file"] = name
        return [node], []


def resolve_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(nodes.reference)):
        name = node.get("hb_data_file")
        if not name:
            continue
        if app.builder.name in HTML_BUILDERS:
            depth = 0 if app.builder.name == "singlehtml" else docname.count("/")
            node["refuri"] = "../" * depth + f"{FOLDER}/{name}"
        else:  # no data folder beside a PDF or an EPUB: name the file of the HTML edition
            node.replace_self(nodes.literal(text=f"{FOLDER}/{name}"))


def setup_downloads(app: Sphinx) -> None:
    app.add_role("data-file", DataFileRole())
    app.connect("doctree-resolved", resolve_links)
    # before the built-link check (links.py, priority 500), which then finds the files
    app.connect("build-finished", write_downloads, priority=400)
