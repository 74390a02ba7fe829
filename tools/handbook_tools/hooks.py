"""``check-files FILE...``: the checks of single files that pre-commit runs on staged files.

Today one check: invisible and bidirectional control characters ("Trojan Source"), the
package's ``invisible`` check when it has one (:mod:`handbook_tools.invisible`), else every
Unicode format character (category ``Cf``) but a byte order mark opening the file.  Prints
``path:line: message (invisible)``; returns 0 (clean), 1 (problems) or 2 (a file that
cannot be read).
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

from .problems import Problem


def _fallback(text: str, display: str) -> list[Problem]:
    found: dict[tuple[int, str], None] = {}
    for i, ch in enumerate(text):
        if not ch.isascii() and unicodedata.category(ch) == "Cf" and not (ch == "\ufeff"
                                                                          and i == 0):
            found[(text.count("\n", 0, i) + 1, ch)] = None
    return [Problem(display, line, f"invisible control character U+{ord(ch):04X} "
                    f"({unicodedata.name(ch, 'unnamed')}): delete it", "invisible")
            for line, ch in found]


def _checker() -> Callable[[str, str], list[Problem]]:
    try:
        from .invisible import invisible_problems
    except ImportError:
        return _fallback
    return invisible_problems


def cmd_check_files(args: argparse.Namespace) -> int:
    check = _checker()
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
        problems.extend(check(data.decode("utf-8", errors="replace"), name))
    for prob in problems:
        print(prob)
    return status or (1 if problems else 0)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-files", help="invisible and bidirectional control characters "
                       "in the files named (the pre-commit hook)")
    p.add_argument("files", nargs="*")
    p.set_defaults(func=cmd_check_files)
