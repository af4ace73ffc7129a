"""Business hours: when an agent's team answers, in the team's own time zone.

Stored on `Agent.business_hours` as
`{"timezone": "Europe/Paris", "days": {"mon": [["09:00", "17:30"]], ...}}`. Empty means
always open; a day left out is closed; a range whose end is not after its start runs past
midnight into the next day (`["22:00", "02:00"]`); `"24:00"` ends a range at midnight.
Ranges include their start and exclude their end. Local wall-clock time is used, so
daylight-saving changes need no configuration.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

logger = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
MAX_RANGES_PER_DAY = 6
MIDNIGHT_END = 24 * 60


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo
    # Minutes since local midnight, per weekday (0 = Monday): [start, end) ranges.
    ranges: dict[int, list[tuple[int, int]]]

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        today, yesterday = local.weekday(), (local.weekday() - 1) % 7
        for start, end in self.ranges.get(today, []):
            if start < end and start <= minute < end:
                return True
            if end <= start and minute >= start:  # runs past midnight: this evening
                return True
        # Yesterday's overnight ranges still open this morning.
        return any(end <= start and minute < end for start, end in self.ranges.get(yesterday, []))


def _minutes(value: Any, where: str) -> int:
    match = CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'{where}: times are "HH:MM" from "00:00" to "24:00", not {value!r}.')
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > MIDNIGHT_END:
        raise ValueError(f'{where}: "24:00" is the latest time, not {value!r}.')
    return minutes


def business_hours_parse(value: Any) -> BusinessHours | None:
    """Read a stored or submitted setting; None means always open.

    Raises ValueError naming what is wrong, for the admin to show.
    """
    if value in (None, {}, ""):
        return None
    if not isinstance(value, dict):
        raise ValueError('Business hours are an object: {"timezone": ..., "days": {...}}.')
    unknown = set(value) - {"timezone", "days"}
    if unknown:
        raise ValueError(f"Unknown key(s) {', '.join(sorted(unknown))}: use timezone and days.")
    name = value.get("timezone", "UTC")
    try:
        zone = ZoneInfo(name) if isinstance(name, str) and name else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    if zone is None:
        raise ValueError(f"Unknown time zone {name!r}: use an IANA name such as Europe/Paris.")
    days = value.get("days")
    if not isinstance(days, dict):
        raise ValueError('"days" maps mon…sun to lists of ["HH:MM", "HH:MM"] ranges.')
    ranges: dict[int, list[tuple[int, int]]] = {}
    for day, spans in days.items():
        if day not in DAYS:
            raise ValueError(f"Unknown day {day!r}: use {', '.join(DAYS)}.")
        if not isinstance(spans, list) or len(spans) > MAX_RANGES_PER_DAY:
            raise ValueError(f"{day}: a list of at most {MAX_RANGES_PER_DAY} ranges.")
        parsed: list[tuple[int, int]] = []
        for span in spans:
            if not isinstance(span, list | tuple) or len(span) != 2:
                raise ValueError(f'{day}: each range is ["HH:MM", "HH:MM"], not {span!r}.')
            start, end = _minutes(span[0], day), _minutes(span[1], day)
            if start == MIDNIGHT_END:
                raise ValueError(f'{day}: a range cannot start at "24:00".')
            if start == end:
                raise ValueError(f"{day}: the range {span[0]}-{span[1]} is empty.")
            # "24:00" is stored as 0: (start, 0) reads as "until midnight" through the
            # overnight branch of is_open, which is exactly right.
            parsed.append((start, 0 if end == MIDNIGHT_END else end))
        ranges[DAYS.index(day)] = parsed
    return BusinessHours(zone=zone, ranges=ranges)


def business_hours_validate(value: Any) -> dict[str, Any]:
    """The admin's check: the setting as stored, or ValueError with a clear reason."""
    business_hours_parse(value)
    return value if isinstance(value, dict) else {}


def business_hours_open(value: Any, *, at: datetime | None = None) -> bool:
    """Whether the team answers at `at` (now by default).

    A stored setting that no longer reads (a time zone withdrawn from the system's
    database) counts as open: better "connecting you" than a wrong "we are away".
    """
    try:
        hours = business_hours_parse(value)
    except ValueError:
        logger.error("unreadable business hours %r; treating as open", value)
        return True
    return hours is None or hours.is_open(at or timezone.now())
