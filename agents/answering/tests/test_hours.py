"""Business hours in the team's time zone: edges, overnight ranges, DST, bad settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.answering.hours import (
    business_hours_open,
    business_hours_parse,
    business_hours_validate,
)

PARIS_OFFICE = {
    "timezone": "Europe/Paris",
    "days": {d: [["09:00", "17:30"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_empty_means_always_open() -> None:
    assert business_hours_open({}, at=utc(2025, 1, 5, 3, 0))
    assert business_hours_parse({}) is None


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Monday 6 January 2025, Paris is UTC+1 in winter.
        (utc(2025, 1, 6, 7, 59), False),  # 08:59 in Paris
        (utc(2025, 1, 6, 8, 0), True),  # 09:00 opens (start included)
        (utc(2025, 1, 6, 16, 29), True),  # 17:29
        (utc(2025, 1, 6, 16, 30), False),  # 17:30 closes (end excluded)
        (utc(2025, 1, 4, 12, 0), False),  # Saturday noon: not listed, closed
        (utc(2025, 1, 5, 23, 30), False),  # Monday 00:30 in Paris, Sunday in UTC
    ],
)
def test_it_reads_the_clock_in_the_teams_time_zone(at: datetime, expected: bool) -> None:
    assert business_hours_open(PARIS_OFFICE, at=at) is expected


def test_daylight_saving_time_moves_with_the_wall_clock() -> None:
    # Monday 7 July 2025, Paris is UTC+2: 09:00 local is 07:00 UTC.
    assert business_hours_open(PARIS_OFFICE, at=utc(2025, 7, 7, 7, 0))
    assert not business_hours_open(PARIS_OFFICE, at=utc(2025, 7, 7, 6, 59))


def test_an_overnight_range_runs_into_the_next_morning() -> None:
    night = {"timezone": "UTC", "days": {"fri": [["22:00", "02:00"]]}}
    assert not business_hours_open(night, at=utc(2025, 1, 10, 21, 59))  # Friday
    assert business_hours_open(night, at=utc(2025, 1, 10, 22, 0))
    assert business_hours_open(night, at=utc(2025, 1, 11, 1, 59))  # Saturday morning
    assert not business_hours_open(night, at=utc(2025, 1, 11, 2, 0))
    assert not business_hours_open(night, at=utc(2025, 1, 11, 23, 0))  # Saturday night


def test_twenty_four_hundred_ends_at_midnight() -> None:
    evening = {"timezone": "UTC", "days": {"mon": [["18:00", "24:00"]]}}
    assert business_hours_open(evening, at=utc(2025, 1, 6, 23, 59))
    assert not business_hours_open(evening, at=utc(2025, 1, 7, 0, 0))  # Tuesday


def test_several_ranges_a_day_leave_a_lunch_break() -> None:
    lunch = {"timezone": "UTC", "days": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}}
    assert business_hours_open(lunch, at=utc(2025, 1, 6, 11, 59))
    assert not business_hours_open(lunch, at=utc(2025, 1, 6, 12, 30))
    assert business_hours_open(lunch, at=utc(2025, 1, 6, 13, 0))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "an object"),
        ({"timezone": "Mars/Olympus", "days": {}}, "Unknown time zone"),
        ({"timezone": "UTC", "days": {"monday": []}}, "Unknown day 'monday'"),
        ({"timezone": "UTC", "days": {"mon": [["9:00", "17:00"]]}}, '"HH:MM"'),
        ({"timezone": "UTC", "days": {"mon": [["09:00", "24:30"]]}}, "latest time"),
        ({"timezone": "UTC", "days": {"mon": [["10:00", "10:00"]]}}, "empty"),
        ({"timezone": "UTC", "days": {"mon": [["24:00", "02:00"]]}}, "cannot start"),
        ({"timezone": "UTC", "days": {"mon": "09:00-17:00"}}, "a list"),
        ({"timezone": "UTC"}, '"days" maps'),
        ({"tz": "UTC", "days": {}}, "Unknown key"),
    ],
)
def test_a_bad_setting_is_refused_with_a_clear_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        business_hours_validate(value)


def test_a_stored_setting_that_no_longer_reads_counts_as_open() -> None:
    assert business_hours_open({"timezone": "Mars/Olympus", "days": {}}, at=utc(2025, 1, 6))
