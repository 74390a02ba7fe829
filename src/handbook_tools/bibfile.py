"""The BibTeX files of sources: each entry parsed strictly, one at a time, so a bad entry
is reported at its own line, and checked for the fields the book needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .invisible import invisible_problems
from .problems import Check, Problem
from .yamlnodes import read_text

if TYPE_CHECKING:
    from .linkstatus import LinkStatus

#: the start of a value left by ``new-fact`` or ``new-source`` to be filled in
PLACEHOLDER = "TODO"


@dataclass
class Source:
    key: str
    path: str
    line: int
    fields: dict[str, str]
    dead: LinkStatus | None = None

    @property
    def url(self) -> str:
        return self.fields.get("url", "")

    @property
    def archiveurl(self) -> str:
        return self.fields.get("archiveurl", "")


_ENTRY = re.compile(r"^\s*@(\w+)\s*[{(]\s*([^,\s]*)\s*,?", re.M)
_FIELD = re.compile(r"^\s*(\w+)\s*=\s*", re.M)
SOURCE_REQUIRED = ("title", "year", "url", "urldate")


def _bib_fields(body: str) -> dict[str, str]:
    """Field values of one entry body, braces and quotes stripped (enough for checks)."""
    fields: dict[str, str] = {}
    for m in _FIELD.finditer(body):
        name = m.group(1).lower()
        pos, depth, out = m.end(), 0, []
        quote = body[pos:pos + 1] == '"'
        if quote:
            pos += 1
        while pos < len(body):
            ch = body[pos]
            if ch == "{":
                depth += 1
            elif ch == "}":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (ch == '"' if quote else ch in ",\n"):
                break  # the end of the value: its closing quote, or a comma or line end
            if ch not in "{}":
                out.append(ch)
            pos += 1
        fields[name] = bib_text(" ".join("".join(out).split()))
    return fields


#: LaTeX escapes of BibTeX text (as scaffold.bib_escape writes them, braces already
#: stripped) and the characters they stand for
_LATEX_ESCAPE = re.compile(r"\\(textbackslash|textbraceleft|textbraceright|textasciitilde"
                           r"|textasciicircum)|\\([&%$#_{}])")
_LATEX_CHARS = {"textbackslash": "\\", "textbraceleft": "{", "textbraceright": "}",
                "textasciitilde": "~", "textasciicircum": "^"}


def bib_text(value: str) -> str:
    """A BibTeX field's text as readers see it: ``Q\\&A`` is ``Q&A``."""
    return _LATEX_ESCAPE.sub(lambda m: _LATEX_CHARS[m[1]] if m[1] else m[2], value)


def load_sources(path: Path, display: str, problems: list[Problem],
                 bad_keys: set[str] | None = None) -> list[Source]:
    """Entries of a BibTeX file with their lines; malformed files are reported, not raised."""
    text = read_text(path, display, problems)
    if text is None:
        return []
    problems.extend(invisible_problems(text, display))
    # the BibTeX parser itself: pybtex.database.parse_string looks it up among every
    # installed package's entry points on each call (4 s of a build's 4.3 s of data
    # loading, once an entry)
    import pybtex.errors
    from pybtex.database.input.bibtex import Parser
    from pybtex.scanner import PybtexError, PybtexSyntaxError

    entries = list(_ENTRY.finditer(text))
    out = []
    seen: dict[str, int] = {}
    for i, m in enumerate(entries):
        kind, key = m.group(1).lower(), m.group(2)
        if kind in ("comment", "preamble", "string"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        end = entries[i + 1].start() if i + 1 < len(entries) else len(text)
        strict, pybtex.errors.strict = pybtex.errors.strict, True
        chunk = text[m.start():end]
        try:  # one entry at a time: a bad entry is reported at its own line
            Parser().parse_string(chunk)
        except PybtexSyntaxError as exc:
            if bad_keys is not None:
                bad_keys.add(key)
            what = re.sub(r"\s*in line \d+", "", str(exc))
            # pybtex also counts a lone '\r' as a line break: count lines up to the error's
            # position the way editors and ``grep -n`` do
            pos = exc.error_context_info[-1] if exc.error_context_info else None
            offset = (chunk.count("\n", 0, pos) if isinstance(pos, int)
                      else (exc.lineno or 1) - 1)
            problems.append(Problem(display, line + offset,
                                    f"malformed BibTeX in entry {key!r}: {what}", Check.BIB))
            continue
        except PybtexError as exc:
            if bad_keys is not None:
                bad_keys.add(key)
            problems.append(Problem(display, line, f"malformed BibTeX in entry {key!r}: "
                                    f"{str(exc).splitlines()[0]}", Check.BIB))
            continue
        finally:
            pybtex.errors.strict = strict
        if key in seen:
            problems.append(Problem(display, line, f"duplicate source key {key!r} (first "
                                    f"defined at line {seen[key]})", Check.DUPLICATE))
            continue
        seen[key] = line
        body = text[m.end():end]
        fields = _bib_fields(body)
        missing = [f for f in SOURCE_REQUIRED if not fields.get(f)]
        if not (fields.get("author") or fields.get("howpublished") or fields.get("organization")):
            missing.append("author or howpublished")
        if missing:
            problems.append(Problem(display, line,
                                    f"source {key!r} lacks {', '.join(missing)}", Check.BIB))
        for name, value in fields.items():
            if value.startswith(PLACEHOLDER):
                problems.append(Problem(display, line, f"source {key!r}: field {name!r} is "
                                        f"still a {PLACEHOLDER} placeholder (new-source): "
                                        "fill it in", Check.BIB))
        archive = fields.get("archiveurl", "")
        if archive and not re.fullmatch(r"https?://\S+", archive):
            problems.append(Problem(display, line,
                                    f"source {key!r}: archiveurl {archive!r} is not an http(s) "
                                    "address", Check.BIB))
        urldate = fields.get("urldate", "")
        if urldate and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", urldate):
            problems.append(Problem(display, line,
                                    f"source {key!r}: urldate {urldate!r} is not YYYY-MM-DD",
                                    Check.BIB))
        out.append(Source(key, display, line, fields))
    return out
