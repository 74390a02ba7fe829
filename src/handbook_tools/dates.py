"""Dates as the book writes them: an as-of date known to the day, the month or only the
year, and the long form readers see ('20 November 2026')."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class AsOf:
    """A date known to the day, the month or only the year."""

    year: int
    month: int = 0
    day: int = 0

    @classmethod
    def parse(cls, value: Any) -> AsOf | None:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        if isinstance(value, int) and 1000 <= value <= 9999:
            return cls(value)
        if isinstance(value, str):
            m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", value.strip())
            if m and (not m[2] or 1 <= int(m[2]) <= 12):
                return cls(int(m[1]), int(m[2] or 0))
        return None

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def iso(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
        if self.day:
            parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def long(self) -> str:
        """'27 September 2024', 'September 2024' or '2024'."""
        if not self.month:
            return str(self.year)
        month = calendar.month_name[self.month]
        return f"{self.day} {month} {self.year}" if self.day else f"{month} {self.year}"

    def month_year(self) -> str:
        """The as-of text readers see inline: 'September 2024'."""
        return AsOf(self.year, self.month).long()


def long_date(day: dt.date) -> str:
    """'20 November 2026'."""
    return AsOf(day.year, day.month, day.day).long()
