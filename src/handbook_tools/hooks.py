"""``check-files FILE...``: the checks of single files that pre-commit runs on staged files.

Today one check: invisible and bidirectional control characters ("Trojan Source"), the
same check the build runs on pages, data and sources (:mod:`handbook_tools.invisible`).  Prints
``path:line: message (invisible)``; returns 0 (clean), 1 (problems) or 2 (a file that
cannot be read).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .invisible import invisible_problems
from .problems import Problem


def cmd_check_files(args: argparse.Namespace) -> int:
    problems: list[Problem] = []
    status = 0
    for name in args.files:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            print(f"error: {name}: {exc.strerror}", file=sys.stderr)
            status = 2
            continue
        if b"\0" in data[:8192]:
            continue  # a binary file (an image, a font)
        problems.extend(invisible_problems(data.decode("utf-8", errors="replace"), name))
    for prob in problems:
        print(prob)
    return status or (1 if problems else 0)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-files", help="invisible and bidirectional control characters "
                       "in the files named (the pre-commit hook)")
    p.add_argument("files", nargs="*")
    p.set_defaults(func=cmd_check_files)
