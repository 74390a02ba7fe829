"""Invisible and bidirectional control characters in pages, data files and the bibliography.

A character such as U+202E (RIGHT-TO-LEFT OVERRIDE) or U+200B (ZERO WIDTH SPACE) shows
nothing, or reorders what is shown, so a reviewer reads one text while the file stores
another ("Trojan Source"); it can also hide a typed figure or an acronym from the checks.
Reported, at the line, are every Unicode format character (category ``Cf``: bidirectional
embeddings, overrides, isolates and marks, zero-width spaces, the word joiner, invisible
operators, tag characters, a byte order mark after the start of the file...) and the
invisible Hangul filler letters, except:

- a byte order mark (U+FEFF) at the very start of a file;
- the visible format characters, Arabic and other prepended number signs (U+0600-U+0605,
  U+06DD, U+070F, U+0890, U+0891, U+08E2, U+110BD, U+110CD);
- ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER (U+200C, U+200D) inside a word of a
  non-Latin script (both neighbours non-ASCII letters or marks), where Persian, Arabic,
  Indic and other scripts need them to spell names correctly. Anywhere else (inside an
  ASCII word, at a word's edge, beside a space) they are reported like the others.
"""

from __future__ import annotations

import re
import unicodedata

from .problems import Check, Problem

#: format characters that are drawn (number signs above digits): not invisible
VISIBLE_FORMAT = frozenset([*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2,
                            0x110BD, 0x110CD])
#: letters that show nothing, used to hide text although they are not format characters
INVISIBLE_LETTERS = frozenset([0x115F, 0x1160, 0x3164, 0xFFA0])
JOINERS = frozenset([0x200C, 0x200D])
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _word_char(ch: str) -> bool:
    """A non-ASCII letter or mark: the neighbour of a joiner inside a word."""
    return bool(ch) and not ch.isascii() and unicodedata.category(ch)[0] in "LM"


def is_invisible(text: str, pos: int) -> bool:
    """Whether the character at ``pos`` is one to report."""
    ch = text[pos]
    cp = ord(ch)
    if cp in INVISIBLE_LETTERS:
        return True
    if unicodedata.category(ch) != "Cf" or cp in VISIBLE_FORMAT:
        return False
    if cp == 0xFEFF and pos == 0:
        return False  # a byte order mark opening the file
    if cp in JOINERS:
        before = text[pos - 1] if pos else ""
        after = text[pos + 1] if pos + 1 < len(text) else ""
        return not (_word_char(before) and _word_char(after))
    return True


def invisible_characters(text: str) -> list[tuple[int, str]]:
    """(line, character) of the characters to report, each code point once a line."""
    found: dict[tuple[int, str], None] = {}
    if text.isascii():
        return []
    for m in _NON_ASCII.finditer(text):
        if is_invisible(text, m.start()):
            found[(text.count("\n", 0, m.start()) + 1, m.group())] = None
    return list(found)


def message(ch: str) -> str:
    cp = ord(ch)
    name = unicodedata.name(ch, "unnamed")
    text = (f"invisible control character U+{cp:04X} ({name}): it can make text read "
            "differently from what is stored; delete it")
    if cp in JOINERS:
        text += " (it is kept only inside a word of a non-Latin script, such as Persian)"
    return text


def invisible_problems(text: str, display: str) -> list[Problem]:
    """The problems of a file's text, at the file's lines."""
    return [Problem(display, line, message(ch), Check.INVISIBLE)
            for line, ch in invisible_characters(text)]
