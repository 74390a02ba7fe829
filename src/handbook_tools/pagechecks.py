"""Checks of page sources before they are parsed: encoding, unclosed fences, invisible
characters.

- ``encoding``: a page that is not UTF-8 is reported at the line of its first bad byte;
  Sphinx then reads it with the bad bytes replaced (U+FFFD) instead of crashing, so the
  page stays in the build and its toctree entry gives no second, misleading message (the
  build still fails under ``-W``);
- ``fence``: a MyST code or directive fence (```` ``` ````, ``~~~`` or ``:::``) opened and
  never closed would swallow the rest of the page silently; it is reported at its
  opening line;
- ``invisible``: an invisible or bidirectional control character (see
  :mod:`handbook_tools.invisible`) is reported at its line.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util.matching import Matcher

from .invisible import invisible_problems
from .problems import Check, Problem, warn
from .yamlnodes import read_text

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}|:{3,})(.*)$")


def unclosed_fences(text: str) -> list[tuple[int, str]]:
    """(line, fence) of every fence still open at the end of the text, CommonMark-style."""
    stack: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if not m:
            continue
        marks, rest = m.group(1), m.group(2).strip()
        if stack:
            open_marks = stack[-1][1]
            if marks[0] == open_marks[0] and len(marks) >= len(open_marks) and not rest:
                stack.pop()
                continue
            if open_marks[0] in "`~" and (marks[0] != ":" or not rest):
                continue  # inside a code fence only its own closing line counts
        if marks[0] == "`" and "`" in rest:
            continue  # an inline code span, not a fence
        stack.append((number, marks))
    return stack


#: UTF-8 (a leading BOM allowed, as Sphinx's default ``utf-8-sig``) that decodes a bad
#: byte as U+FFFD instead of raising: the reading codec once a bad page is reported
LENIENT_UTF8 = "handbook-lenient-utf-8"


def _lenient_codec(name: str) -> codecs.CodecInfo | None:
    if name != LENIENT_UTF8.replace("-", "_"):
        return None
    base = codecs.lookup("utf-8-sig")

    class Decoder(base.incrementaldecoder):  # type: ignore[name-defined]
        def __init__(self, errors: str = "strict") -> None:
            super().__init__("replace")

    def decode(data: Any, errors: str = "strict") -> tuple[str, int]:
        return base.decode(data, "replace")

    return codecs.CodecInfo(base.encode, decode, base.streamreader, base.streamwriter,
                            base.incrementalencoder, Decoder, name=LENIENT_UTF8)


codecs.register(_lenient_codec)


def check_encodings(app: Sphinx) -> None:
    """Report pages that are not UTF-8, and have Sphinx read them leniently."""
    exclude = Matcher(list(app.config.exclude_patterns) + ["_build/**", ".*/**"])
    suffixes = tuple(app.config.source_suffix)
    src = Path(app.srcdir)
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if not path.is_file() or not rel.endswith(suffixes) or exclude(rel):
            continue
        problems: list[Problem] = []
        if read_text(path, str(path), problems) is None:
            for prob in problems:
                warn(prob.check, prob.message, prob.location)
            if str(app.env.settings.get("input_encoding", "")).lower() in ("utf-8",
                                                                          "utf-8-sig"):
                app.env.settings["input_encoding"] = LENIENT_UTF8


def check_fences(app: Sphinx, docname: str, source: list[str]) -> None:
    for line, marks in unclosed_fences(source[0]):
        warn(Check.FENCE, f"fence {marks} opened here is never closed: add a closing {marks} "
             "line (the rest of the page would be swallowed)", (docname, line))


def check_invisible(app: Sphinx, docname: str, source: list[str]) -> None:
    for prob in invisible_problems(source[0], docname):
        warn(Check.INVISIBLE, prob.message, (docname, prob.line))


def setup_pagechecks(app: Sphinx) -> None:
    app.connect("builder-inited", check_encodings)
    app.connect("source-read", check_fences)
    app.connect("source-read", check_invisible)
