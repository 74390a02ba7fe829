"""Settings shared by the extension and the CLI: the reference date and the data paths."""

from __future__ import annotations

import datetime as dt
import os

TODAY_ENV = "HANDBOOK_TODAY"


def reference_date(configured: str | None = None) -> dt.date:
    """The date against which facts are fresh or stale.

    ``HANDBOOK_TODAY`` (YYYY-MM-DD) wins over the ``handbook_today`` conf value; without
    either, ``SOURCE_DATE_EPOCH`` (set for reproducible builds) gives the date, and
    failing that the date of the build.
    """
    for raw in (os.environ.get(TODAY_ENV), configured):
        if raw:
            try:
                return dt.date.fromisoformat(str(raw).strip())
            except ValueError as exc:
                raise ValueError(
                    f"{TODAY_ENV}/handbook_today must be a date YYYY-MM-DD, not {raw!r}"
                ) from exc
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.date.today()
