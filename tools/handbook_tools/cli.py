"""Command line: ``python -m handbook_tools <command>``.

``check [DOCS]``
    Run every check of the extension without writing a site: the data files (facts,
    sources), then a read-only Sphinx pass (the ``dummy`` builder) for facts cited in pages,
    glossary terms, acronyms, typed figures and cross-references.  Prints
    ``path:line: message (check-name)`` and returns 0 (clean), 1 (problems) or 2 (could
    not run).  ``--data-only`` checks the data files alone, in a fraction of a second.
``latexlog LOG [--docs DOCS]``
    Fail (1) when the LaTeX log reports an error: TeX's first error, named by the page
    and line of DOCS where the failing block comes from (the ``.tex`` file's source
    markers), as ``path:line: message (latex)``; or undefined references or citations.
``linkreport OUTPUT_JSON [--write STATUS_YAML] [--docs DOCS] [--date YYYY-MM-DD]``
    Summarise Sphinx's linkcheck output and write ``report.json`` beside it; 1 when a link
    is broken.  With ``--write``, also record in STATUS_YAML (the data folder's
    ``link-status.yaml``) every source URL of the ``.bib`` files of DOCS that this check
    found broken, with the date checked (today unless ``--date``); a URL found working again
    is removed, one not checked this time keeps its record.  Builds read that committed file
    to cite a dead source's ``archiveurl``.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import runpy
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import yaml

from .problems import Check, Problem
from .registry import LinkStatus, load_link_status, load_registry, load_sources, stale_problems
from .settings import reference_date

WARNING = re.compile(
    r"^(?P<loc>.*?):(?:(?P<line>\d+):)? (?:WARNING|ERROR|CRITICAL): (?P<msg>.*?)"
    r"(?: \[(?P<type>[\w.-]+)\])?$"
)


def _conf(docs: Path) -> dict[str, object]:
    conf = docs / "conf.py"
    if not conf.is_file():
        raise FileNotFoundError(f"{conf}: no Sphinx conf.py here")
    return runpy.run_path(str(conf))


def data_problems(docs: Path) -> list[Problem]:
    conf = _conf(docs)
    data_dir = docs / str(conf.get("handbook_data_dir", "_data"))
    bibs = [docs / str(b) for b in conf.get("bibtex_bibfiles", [])]  # type: ignore[attr-defined]
    reg = load_registry(data_dir, bibs, display_root=Path.cwd())
    today = reference_date(str(conf.get("handbook_today", "")))
    return sorted(reg.problems) + stale_problems(reg, today)


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return path


def parse_warnings(text: str) -> list[Problem]:
    """Sphinx warning lines -> problems (continuation lines join their warning)."""
    out: list[Problem] = []
    joined: list[str] = []
    for raw in text.splitlines():
        if re.match(r"^\S.*?: (?:WARNING|ERROR|CRITICAL): ", raw) or not joined:
            joined.append(raw)
        elif raw.strip():
            joined[-1] += " " + raw.strip()
    for raw in joined:
        m = WARNING.match(raw)
        if not m:
            continue
        kind = (m["type"] or "sphinx").removeprefix("handbook.")
        check: Check | str = Check(kind) if kind in Check._value2member_map_ else kind
        out.append(Problem(_relative(m["loc"] or "<build>"), int(m["line"] or 0), m["msg"],
                           check))
    return out


def sphinx_problems(docs: Path) -> list[Problem]:
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    nocolor()
    warnings = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp, patch_docutils(docs), docutils_namespace():
        app = Sphinx(str(docs), str(docs), str(Path(tmp, "out")), str(Path(tmp, "doctrees")),
                     "dummy", confoverrides={"nitpicky": True}, status=None,
                     warning=warnings, freshenv=True, keep_going=True)
        app.build()
    return parse_warnings(warnings.getvalue())


def cmd_check(args: argparse.Namespace) -> int:
    from sphinx.errors import SphinxError

    docs = Path(args.docs)
    try:
        problems = data_problems(docs) if args.data_only else sphinx_problems(docs)
    except (FileNotFoundError, ValueError, SphinxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seen = set()
    for prob in problems:
        text = str(prob)
        if text not in seen:
            seen.add(text)
            print(text)
    if seen:
        print(f"{len(seen)} problem(s) found", file=sys.stderr)
        return 1
    return 0


#: what LaTeX says of a link that goes nowhere, or of a label defined twice (a link to it
#: may land on the wrong one)
LATEX_BAD = re.compile(r"(Reference|Citation) `([^']*)' on page (\d+) undefined|"
                       r"There were undefined (references|citations)|"
                       r"Label `([^']*)' multiply defined")


def cmd_latexlog(args: argparse.Namespace) -> int:
    from .latex import tex_error_problem

    log = Path(args.log)
    if not log.is_file():
        print(f"error: {log}: no LaTeX log", file=sys.stderr)
        return 2
    failed = tex_error_problem(log, args.docs)
    if failed is not None:
        print(failed)
        print(f"(the whole log: {log})", file=sys.stderr)
        return 1
    text = log.read_text(encoding="utf-8", errors="replace")
    bad = [m.group(0) for m in LATEX_BAD.finditer(text)]
    for item in dict.fromkeys(bad):
        print(f"{log}: {item} (link)")
    return 1 if bad else 0


def cmd_linkreport(args: argparse.Namespace) -> int:
    path = Path(args.output)
    if not path.is_file():
        print(f"error: {path}: no linkcheck output (run the linkcheck builder first)",
              file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    report = [{"uri": r.get("uri"), "page": r.get("filename"), "line": r.get("lineno"),
               "status": r.get("status"), "code": r.get("code"), "info": r.get("info")}
              for r in rows]
    Path(path.parent, "report.json").write_text(json.dumps(report, indent=2, sort_keys=True),
                                                encoding="utf-8")
    counts = Counter(r["status"] for r in report)
    print("linkcheck: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    bad = [r for r in report if r["status"] in ("broken", "timeout")]
    for r in bad:
        print(f"{r['page']}:{r['line']}: {r['status']}: {r['uri']} ({r['info']})")
    print(f"report: {Path(path.parent, 'report.json')}")
    if args.write and write_link_status(Path(args.write), Path(args.docs), rows, args.date):
        return 2
    return 1 if bad else 0


STATUS_HEADER = """\
# Source URLs that `make linkcheck` found broken, with the date of that check.
# Written by `python -m handbook_tools linkreport build/linkcheck/output.json --write ...`:
# commit it. A dead source is cited with its `archiveurl` (see CONTRIBUTING.md); one
# without an archived copy fails the build until a contributor adds it.
"""


def write_link_status(target: Path, docs: Path, rows: list[dict[str, object]],
                      checked: str | None) -> bool:
    """Update the link status file from linkcheck rows; True when it could not be done."""
    try:
        when = date.fromisoformat(checked) if checked else date.today()
        conf = _conf(docs)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return True
    bibs = [docs / str(b) for b in conf.get("bibtex_bibfiles", [])]  # type: ignore[attr-defined]
    keys: dict[str, str] = {}  # url -> the first source key citing it
    for bib in bibs:
        if bib.is_file():  # a bad .bib file is `make check`'s to report
            for src in sorted(load_sources(bib, str(bib), []), key=lambda s: s.key):
                keys.setdefault(src.url, src.key)
    old: dict[str, LinkStatus] = {}
    if target.is_file():
        problems: list[Problem] = []
        old = load_link_status(target, str(target), problems)
        if problems:
            for prob in problems:
                print(prob, file=sys.stderr)
            return True
    results = {str(r.get("uri")): r for r in rows}
    records = []
    for url, key in sorted(keys.items(), key=lambda item: (item[1], item[0])):
        row = results.get(url)
        if row is not None and row.get("status") == "broken":
            records.append({"source": key, "url": url, "checked": when,
                            "info": str(row.get("info") or "")})
        elif url in old and (row is None or row.get("status") not in ("working", "redirected")):
            prev = old[url]  # not checked (or not conclusively) this time: keep the record
            records.append({"source": key, "url": url, "checked": prev.checked,
                            "info": prev.info})
    body = yaml.safe_dump(records, sort_keys=False, allow_unicode=True, width=100) \
        if records else "[]\n"
    target.write_text(STATUS_HEADER + body, encoding="utf-8")
    print(f"link status: {len(records)} dead source URL(s) recorded in {target}")
    return False


def cmd_publish(args: argparse.Namespace) -> int:
    from .publish import publish

    new, target = Path(args.new), Path(args.target)
    if not new.is_dir():
        print(f"error: {new}: no new build to publish", file=sys.stderr)
        return 2
    try:
        publish(new, target)
    except OSError as exc:
        print(f"error: cannot put {new} in place of {target}: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handbook_tools",
                                     description="Checks of the Iraq handbook.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="check facts, sources, terms and links without a build")
    p.add_argument("docs", nargs="?", default="docs")
    p.add_argument("--data-only", action="store_true", help="check the data files only")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("latexlog", help="fail on a LaTeX error or undefined references")
    p.add_argument("log")
    p.add_argument("--docs", default="docs",
                   help="the Sphinx folder, to name the page where LaTeX failed")
    p.set_defaults(func=cmd_latexlog)
    p = sub.add_parser("linkreport", help="summarise linkcheck output.json")
    p.add_argument("output")
    p.add_argument("--write", metavar="STATUS_YAML",
                   help="record broken source URLs here (docs/_data/link-status.yaml)")
    p.add_argument("--docs", default="docs", help="the Sphinx folder whose sources to match")
    p.add_argument("--date", help="the date of the check, YYYY-MM-DD (default: today)")
    p.set_defaults(func=cmd_linkreport)
    p = sub.add_parser("publish", help="put a new build in place of the old in one step")
    p.add_argument("new")
    p.add_argument("target")
    p.set_defaults(func=cmd_publish)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    return int(args.func(args))
