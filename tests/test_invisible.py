"""Which characters the ``invisible`` check reports, and where (the corpus cases
invisible-page, invisible-data and invisible-bib check the messages end to end)."""

from __future__ import annotations

import pytest

from handbook_tools.invisible import invisible_characters, invisible_problems


@pytest.mark.parametrize(("text", "found"), [
    ("plain ASCII text", []),
    ("en dash \u2013, é, non-breaking\u00a0space, \u2028", []),
    ("\ufeffa byte order mark opening the file", []),
    ("a\n\ufeffbyte order mark later", [(2, "\ufeff")]),
    ("RLO \u202eevil\u202c", [(1, "\u202e"), (1, "\u202c")]),
    ("twice \u200b and \u200b on one line\nonce \u200b", [(1, "\u200b"), (2, "\u200b")]),
    ("marks \u200e\u200f isolates \u2066\u2069", [(1, "\u200e"), (1, "\u200f"),
                                                    (1, "\u2066"), (1, "\u2069")]),
    ("word\u2060joiner, soft\u00adhyphen", [(1, "\u2060"), (1, "\u00ad")]),
    ("tag characters \U000e0041\U000e0042", [(1, "\U000e0041"), (1, "\U000e0042")]),
    ("Hangul filler \u3164 looks like nothing", [(1, "\u3164")]),
    # ZWNJ / ZWJ inside a Persian or Devanagari word: needed to spell it
    ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", []),
    ("\u0915\u094d\u200d\u0937", []),
    # ... but not inside an ASCII word, at a word's edge or at the end of the text
    ("IS\u200cF", [(1, "\u200c")]),
    ("\u0645\u06cc\u200c ", [(1, "\u200c")]),
    ("\u0645\u200d", [(1, "\u200d")]),
    # the Arabic number sign is drawn: a format character, not an invisible one
    ("\u0600\u0661\u0662", []),
])
def test_invisible_characters(text: str, found: list[tuple[int, str]]) -> None:
    assert invisible_characters(text) == found


def test_message_names_the_code_point_and_what_to_do() -> None:
    (prob,) = invisible_problems("x\u202ey", "page.md")
    assert str(prob) == ("page.md:1: invisible control character U+202E (RIGHT-TO-LEFT "
                         "OVERRIDE): it can make text read differently from what is stored; "
                         "delete it (invisible)")
