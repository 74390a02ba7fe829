"""Command line: ``handbook <command>`` (the console script), or ``python -m handbook_tools
<command>``.  Importing this module is cheap (no Sphinx, no YAML): each command imports what
it needs, so ``publish``, which ``make html`` runs after every build, starts at once.

``check [DOCS]``
    Run every check of the extension without writing a site: the data files (facts,
    sources, publishers), then a read-only Sphinx pass (the ``dummy`` builder) for facts
    cited in pages, glossary terms, acronyms, typed figures and cross-references.  Prints
    ``path:line: message (check-name)`` and returns 0 (clean), 1 (problems) or 2 (could
    not run); then, on stderr, the count of each advisory check (``--advisory`` lists
    them) and the sources and facts (by their best source) per standing.  ``--data-only``
    checks the data files alone, in a fraction of a second.
``latexlog LOG [--docs DOCS]``
    Fail (1) when the LaTeX log reports an error: TeX's first error, named by the page
    and line of DOCS where the failing block comes from (the ``.tex`` file's source
    markers), as ``path:line: message (latex)``; or undefined references or citations.
``linkcheck [DOCS] [--write STATUS_YAML] [--report JSON] [--date YYYY-MM-DD]``
    Fetch every source URL of the ``.bib`` files of DOCS, sort each answer into live,
    unreachable (no definite answer) or a definite failure (404, 410, a redirect to an
    unrelated page), and look for the excerpt of every fact citing the source on its page
    (see :mod:`handbook_tools.sourcecheck`).  With ``--write``, update STATUS_YAML (the
    data folder's ``link-status.yaml``): a first definite failure is ``suspect``, one
    confirmed by a run on another day ``dead``.  The date of the run is ``--date``, else
    ``HANDBOOK_TODAY``, else today.  Returns 0 (all live, every excerpt found), 1 (a suspect
    or dead source, or a missing excerpt), 2 (could not run: bad arguments or a bad status
    file) or 3 (most hosts could not be reached: the network looks down; nothing written).
``linkreport OUTPUT_JSON``
    Summarise the output of Sphinx's own linkcheck builder (``sphinx-build -b linkcheck``)
    and write ``report.json`` beside it; 1 when a link is broken.
``publish NEW TARGET``
    Put the new build NEW in place of the site TARGET in one step (``make html``): see
    :mod:`handbook_tools.publish`.  0, or 2 when NEW is missing or cannot be moved.
``new-source URL``, ``new-fact ID --source KEY``
    Skeletons for a contributor's new source and fact: see :mod:`handbook_tools.scaffold`.
``check-files FILE...``
    Invisible and bidirectional control characters (the pre-commit hook): see
    :mod:`handbook_tools.hooks`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import runpy
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .problems import WARNING_TYPE, Check, Problem

if TYPE_CHECKING:  # the data modules (and YAML, Sphinx) load in the commands that use them:
    # `make html` runs `publish` on every build, which needs none of them
    from .publishers import Publishers
    from .registry import Registry

WARNING = re.compile(
    r"^(?P<loc>.*?):(?:(?P<line>\d+):)? (?:WARNING|ERROR|CRITICAL): (?P<msg>.*?)"
    r"(?: \[(?P<type>[\w.-]+)\])?$"
)


def _conf(docs: Path) -> dict[str, object]:
    conf = docs / "conf.py"
    if not conf.is_file():
        raise FileNotFoundError(f"{conf}: no Sphinx conf.py here")
    return runpy.run_path(str(conf))


def _load(docs: Path) -> tuple[Registry, Publishers | None, list[Problem]]:
    """The registry and publisher register of DOCS, and every problem of the data files."""
    from .publishers import load_all
    from .registry import stale_problems
    from .settings import reference_date

    conf = _conf(docs)
    data_dir = docs / str(conf.get("handbook_data_dir", "_data"))
    bibs = [docs / str(b) for b in conf.get("bibtex_bibfiles", [])]  # type: ignore[attr-defined]
    reg, pubs = load_all(data_dir, bibs, display_root=Path.cwd())
    today = reference_date(str(conf.get("handbook_today", "")))
    return reg, pubs, sorted(reg.problems) + stale_problems(reg, today)


def data_problems(docs: Path) -> list[Problem]:
    """Every problem of the data files (advisory ones included: see :func:`advisory`)."""
    return _load(docs)[2]


def advisory(docs: Path) -> set[str]:
    """The checks ``handbook_advisory_checks`` in conf.py reports without failing."""
    checks = _conf(docs).get("handbook_advisory_checks", [])
    return {str(c) for c in checks} if isinstance(checks, list | tuple) else set()


def standing_summary(reg: Registry, pubs: Publishers | None) -> list[str]:
    """Sources and facts (by their best source) per standing; empty without a register."""
    if pubs is None:
        return []
    from .publishers import counts_text, standing_counts

    sources, facts = standing_counts(reg, pubs)
    return [counts_text(f"standing of {len(reg.sources)} sources", sources),
            counts_text(f"best standing of {len(reg.facts)} facts", facts)]


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except (ValueError, OSError):
        return path


def parse_warnings(text: str, root: Path | None = None) -> list[Problem]:
    """Sphinx warning lines -> problems (continuation lines join their warning).

    Sphinx and the extension log absolute paths; the paths under ROOT (default: the
    working folder) are shortened relative to it, in the location and in the message."""
    root = (root or Path.cwd()).resolve()
    prefix = f"{root}{os.sep}"
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
        kind = (m["type"] or "sphinx").removeprefix(WARNING_TYPE + ".")
        check: Check | str = Check(kind) if kind in Check._value2member_map_ else kind
        out.append(Problem(_relative(m["loc"] or "<build>", root), int(m["line"] or 0),
                           m["msg"].replace(prefix, ""), check))
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
        reg, pubs, data = _load(docs)
        problems = data if args.data_only else sphinx_problems(docs)
        notes = advisory(docs)
        # advisory checks are notes in the build, not warnings: count them from the data
        noted = [p for p in data if p.kind in notes]
    except (FileNotFoundError, ValueError, SphinxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seen = set()
    for prob in problems:
        text = str(prob)
        if prob.kind not in notes and text not in seen:
            seen.add(text)
            print(text)
    if args.advisory:
        for prob in noted:
            print(f"advisory: {prob}", file=sys.stderr)
    if noted:
        counts = Counter(p.kind for p in noted)
        print("advisory (handbook_advisory_checks, not failing): "
              + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
              + ("" if args.advisory else "; list them with --advisory"), file=sys.stderr)
    for line in standing_summary(reg, pubs):
        print(line, file=sys.stderr)
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
    return 1 if bad else 0


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


def cmd_linkcheck(args: argparse.Namespace) -> int:
    from .sourcecheck import cmd_linkcheck as run

    return run(args)


def contributor_commands(sub: argparse._SubParsersAction) -> None:
    """``new-source``, ``new-fact`` (:mod:`.scaffold`) and ``check-files`` (:mod:`.hooks`)."""
    from . import hooks, scaffold

    scaffold.add_parsers(sub)
    hooks.add_parsers(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="handbook", description="Checks and publishing of the Iraq handbook (also run "
        "as `python -m handbook_tools`).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="check facts, sources, terms and links without a build")
    p.add_argument("docs", nargs="?", default="docs")
    p.add_argument("--data-only", action="store_true", help="check the data files only")
    p.add_argument("--advisory", action="store_true",
                   help="also list the problems of handbook_advisory_checks (on stderr)")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("latexlog", help="fail on a LaTeX error or undefined references")
    p.add_argument("log")
    p.add_argument("--docs", default="docs",
                   help="the Sphinx folder, to name the page where LaTeX failed")
    p.set_defaults(func=cmd_latexlog)
    p = sub.add_parser("linkreport", help="summarise Sphinx's linkcheck output.json")
    p.add_argument("output")
    p.set_defaults(func=cmd_linkreport)
    p = sub.add_parser("linkcheck", help="check every source URL and the excerpts quoted "
                       "from it (needs the internet)")
    p.add_argument("docs", nargs="?", default="docs")
    p.add_argument("--write", metavar="STATUS_YAML",
                   help="update this link status file (docs/_data/link-status.yaml)")
    p.add_argument("--report", metavar="JSON", help="write every URL's answer here")
    p.add_argument("--date", help="the date of the run, YYYY-MM-DD (default: HANDBOOK_TODAY, "
                   "else today)")
    p.add_argument("--timeout", type=float,
                   help="seconds (default: conf.py's linkcheck_timeout, else 20)")
    p.add_argument("--retries", type=int, help="further tries after a failure without a "
                   "definite answer (default: linkcheck_retries, else 2)")
    p.add_argument("--backoff", type=float,
                   help="seconds before the first retry, doubled each time (default 2)")
    p.add_argument("--max-retry-after", type=float, help="longest 429 Retry-After to wait, "
                   "in seconds (default: linkcheck_rate_limit_timeout, else 120)")
    p.add_argument("--workers", type=int,
                   help="hosts checked at once (default: linkcheck_workers, else 4)")
    p.set_defaults(func=cmd_linkcheck)
    p = sub.add_parser("publish", help="put a new build in place of the old in one step")
    p.add_argument("new")
    p.add_argument("target")
    p.set_defaults(func=cmd_publish)
    contributor_commands(sub)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    return int(args.func(args))
