"""The Wait grammar and resume times (WAIT-2..6), shared by lint and the engine."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kampanj.model.wait import (
    date_resume,
    duration_resume,
    parse_duration,
    parse_time_of_day,
    parse_weekdays,
    token_resume,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
FRIDAY_17 = datetime(2026, 3, 6, 17, 0, tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("1 minute", timedelta(minutes=1)),
        ("4 hours", timedelta(hours=4)),
        ("2 Days", timedelta(days=2)),
        (" 1 week ", timedelta(days=7)),
        ("1 month", timedelta(days=30)),
        ("2 YEARS", timedelta(days=730)),
    ],
)
def test_durations_and_units(text: str, length: timedelta) -> None:
    """WAIT-2 (singular/plural, any case) and WAIT-3 (month 30 days, year 365 days)."""
    parsed = parse_duration(text)
    assert parsed is not None and parsed.length == length


@pytest.mark.parametrize("text", ["4 hrs", "1.5 days", "0 days", "-1 day", "days", "3", 3, None])
def test_unparseable_durations(text: object) -> None:
    """WAIT-2: anything else is refused (lint reports WAIT_UNPARSEABLE)."""
    assert parse_duration(text) is None  # type: ignore[arg-type]


def test_time_of_day_and_weekdays() -> None:
    assert parse_time_of_day("09:00") == time(9, 0)
    assert parse_time_of_day("24:00") is None and parse_time_of_day("9:00") is None
    assert parse_weekdays(("monday", "Friday")) == frozenset({0, 4})
    assert parse_weekdays(("Monday", "Funday")) is None and parse_weekdays(()) is None


def test_end_on_example_of_the_spec() -> None:
    """WAIT-4: entry Friday 17:00, 48 hours, Monday–Friday at 09:00 → Monday 09:00."""
    weekdays = parse_weekdays(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"))
    duration = parse_duration("48 hours")
    assert duration is not None
    resume = duration_resume(FRIDAY_17, duration, STOCKHOLM, weekdays=weekdays, at=time(9))
    assert resume == datetime(2026, 3, 9, 9, 0, tzinfo=STOCKHOLM)


def test_end_on_at_already_passed_that_day_takes_the_next_listed_day() -> None:
    """WAIT-4: the first instant ≥ the computed end: Tuesday 10:00 end, at 09:00 → Wednesday."""
    duration = parse_duration("1 day")
    assert duration is not None
    entry = datetime(2026, 3, 9, 10, 0, tzinfo=STOCKHOLM)  # Monday
    weekdays = frozenset({1, 2})
    resume = duration_resume(entry, duration, STOCKHOLM, weekdays=weekdays, at=time(9))
    assert resume == datetime(2026, 3, 11, 9, 0, tzinfo=STOCKHOLM)


def test_end_on_without_at() -> None:
    """WAIT-4: the computed end when its day is listed, else 00:00 of the next listed day."""
    duration = parse_duration("1 day")
    assert duration is not None
    listed = duration_resume(FRIDAY_17, duration, STOCKHOLM, weekdays=frozenset({5}))
    assert listed == FRIDAY_17 + timedelta(days=1)
    moved = duration_resume(FRIDAY_17, duration, STOCKHOLM, weekdays=frozenset({0}))
    assert moved == datetime(2026, 3, 9, 0, 0, tzinfo=STOCKHOLM)


def test_end_on_uses_the_account_time_zone() -> None:
    """GEN-1: Saturday 23:30 UTC is already Sunday in Stockholm, so Sunday counts as listed."""
    duration = parse_duration("1 minute")
    assert duration is not None
    entry = datetime(2026, 3, 7, 23, 29, tzinfo=UTC)
    end = entry + timedelta(minutes=1)
    assert duration_resume(entry, duration, STOCKHOLM, weekdays=frozenset({6})) == end
    assert duration_resume(entry, duration, UTC, weekdays=frozenset({6})) == datetime(
        2026, 3, 8, 0, 0, tzinfo=UTC
    )


def test_date_waits() -> None:
    """WAIT-5: a date is 00:00 local; a date not in the future at entry means no wait."""
    assert date_resume(FRIDAY_17, "2026-03-10", STOCKHOLM) == datetime(
        2026, 3, 10, tzinfo=STOCKHOLM
    )
    assert date_resume(FRIDAY_17, "2026-03-10T08:00:00Z", STOCKHOLM) == datetime(
        2026, 3, 10, 8, tzinfo=UTC
    )
    assert date_resume(FRIDAY_17, "2026-03-06", STOCKHOLM) is None
    assert date_resume(FRIDAY_17, "2026-03-06T17:00", STOCKHOLM) is None


def test_date_token_waits() -> None:
    """WAIT-6: offset days, anniversaries (29 Feb → 28 Feb), empty or past → no wait."""
    assert token_resume(FRIDAY_17, "2026-03-20", STOCKHOLM, offset_days=-2) == datetime(
        2026, 3, 18, tzinfo=STOCKHOLM
    )
    assert token_resume(FRIDAY_17, "1990-03-07", STOCKHOLM, anniversary=True) == datetime(
        2026, 3, 7, tzinfo=STOCKHOLM
    )
    assert token_resume(FRIDAY_17, "1990-03-05", STOCKHOLM, anniversary=True) == datetime(
        2027, 3, 5, tzinfo=STOCKHOLM
    )
    assert token_resume(FRIDAY_17, "2000-02-29", STOCKHOLM, anniversary=True) == datetime(
        2027, 2, 28, tzinfo=STOCKHOLM
    )
    assert token_resume(FRIDAY_17, "", STOCKHOLM) is None
    assert token_resume(FRIDAY_17, "not a date", STOCKHOLM) is None
    assert token_resume(FRIDAY_17, "2026-03-01", STOCKHOLM) is None
