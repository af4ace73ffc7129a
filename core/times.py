"""How the API writes a moment: ISO 8601 in UTC with a `Z` (what every JSON body says)."""

from __future__ import annotations

from datetime import datetime


def iso_utc(moment: datetime | None) -> str | None:
    """`2026-12-06T22:30:00.123456Z`; None stays None."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
