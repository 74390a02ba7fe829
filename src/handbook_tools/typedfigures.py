"""The ``typed-figure`` check: a figure typed in prose instead of cited with ``{fact}``.

A number the registry holds (10 or more, not a year) is reported with the fact that holds
it; a grouped figure such as 170,000 that no fact holds is reported as a figure without a
source.  The glossary's page walk (:func:`handbook_tools.glossary.check_page`) hands each
prose chunk to :func:`check_chunk`, so a page's record is walked once for both checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .problems import Check, warn
from .prose import Chunk
from .registry import Registry

NUMBER = re.compile(r"(?<![\w.,/-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w,]\d|\w)")


MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
          "December")
NEAR_MONTH = re.compile(rf"(?:\b(?:{MONTHS})\s+$)|(?:^\s+(?:{MONTHS})\b)")


def numbers(text: str) -> Iterator[tuple[str, float]]:
    """Figures in a text; a day of a month ("September 11", "20 March") is a date."""
    for m in NUMBER.finditer(text):
        if "," not in m.group(1) and re.match(r"-[a-z]", text[m.end():m.end() + 2]):
            continue  # a compound modifier: "180-degree", "12-month"
        if NEAR_MONTH.search(text[max(0, m.start() - 12):m.start()]) or NEAR_MONTH.search(
                text[m.end():m.end() + 12]):
            continue
        raw = m.group(1)
        yield raw, float(raw.replace(",", ""))


def is_year(raw: str, value: float) -> bool:
    return "," not in raw and "." not in raw and 1900 <= value <= 2100


def figures_held(reg: Registry) -> dict[float, str]:
    """Every number of the registry -> the (first) fact that holds it."""
    held: dict[float, str] = {}
    for fact in reg.facts.values():
        if fact.number is not None:
            held.setdefault(float(fact.number), fact.id)
    return held


def check_chunk(docname: str, chunk: Chunk, held: dict[float, str],
                report: Callable[[Check, str, Any], None] = warn) -> None:
    """``report``: where a problem goes (:func:`~.problems.warn`, or a list to replay)."""
    for raw, value in numbers(str(chunk.text)):
        if is_year(raw, value):
            continue
        fact_id = held.get(value)
        if fact_id is not None and value >= 10:
            report(Check.TYPED_FIGURE, f"figure {raw} is typed in prose but the registry holds "
                 f"it: write {{fact}}`{fact_id}`", (docname, chunk.line))
        elif "," in raw:
            report(Check.TYPED_FIGURE, f"figure {raw} is typed in prose without a source: add it "
                 "to the fact registry and cite it with {fact}", (docname, chunk.line))
