"""Recurrence occurrences (CMP-9, CMP-10, GEN-1): pure calendar arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from kampanj.engine.recurrence import due_occurrences, next_occurrence, occurrences
from kampanj.model.campaigns import Recurrence, RecurrenceInterval, Weekday

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _local(*parts: int, zone: ZoneInfo = STOCKHOLM) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def _first(recurrence: Recurrence, count: int, zone: ZoneInfo = STOCKHOLM) -> list[str]:
    """The first ``count`` occurrences as local ``yyyy-mm-dd HH:MM Day``."""
    return [
        instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %a")
        for instant in islice(occurrences(recurrence, zone), count)
    ]


def test_daily_every_n_days_at_start_time() -> None:
    """CMP-10: the first at startAt, then every interval days at startAt's local time."""
    recurrence = Recurrence(
        start_at=_local(2026, 3, 2, 9, 0), interval_type=RecurrenceInterval.DAILY, interval=3
    )
    assert _first(recurrence, 3) == [
        "2026-03-02 09:00 Mon",
        "2026-03-05 09:00 Thu",
        "2026-03-08 09:00 Sun",
    ]


def test_daily_keeps_local_time_across_daylight_saving() -> None:
    """GEN-1: 09:00 Stockholm stays 09:00 local; the UTC instant moves by an hour (DST)."""
    recurrence = Recurrence(
        start_at=_local(2026, 3, 28, 9, 0), interval_type=RecurrenceInterval.DAILY
    )
    instants = list(islice(occurrences(recurrence, STOCKHOLM), 3))
    assert [i.astimezone(STOCKHOLM).hour for i in instants] == [9, 9, 9]
    assert [i.astimezone(UTC).hour for i in instants] == [8, 7, 7]  # DST starts 29 March


def test_daily_weekday_only_skips_weekends() -> None:
    """CMP-10: Daily with weekdayOnly skips Saturdays and Sundays (a weekend start too)."""
    recurrence = Recurrence(
        start_at=_local(2026, 3, 7, 6, 30),  # a Saturday
        interval_type=RecurrenceInterval.DAILY,
        weekday_only=True,
    )
    assert _first(recurrence, 6) == [
        "2026-03-09 06:30 Mon",
        "2026-03-10 06:30 Tue",
        "2026-03-11 06:30 Wed",
        "2026-03-12 06:30 Thu",
        "2026-03-13 06:30 Fri",
        "2026-03-16 06:30 Mon",
    ]


def test_weekly_mask_every_second_week_counted_from_start_week() -> None:
    """CMP-10: each weekdayMask day of every interval-th week, weeks counted from startAt's
    week (Monday start); days of the start week before startAt are not occurrences."""
    recurrence = Recurrence(
        start_at=_local(2026, 3, 4, 8, 0),  # Wednesday of the week of Monday 2 March
        interval_type=RecurrenceInterval.WEEKLY,
        interval=2,
        weekday_mask=(Weekday.FRIDAY, Weekday.MONDAY),
    )
    assert _first(recurrence, 5) == [
        "2026-03-06 08:00 Fri",
        "2026-03-16 08:00 Mon",
        "2026-03-20 08:00 Fri",
        "2026-03-30 08:00 Mon",
        "2026-04-03 08:00 Fri",
    ]


def test_monthly_day_of_month_skips_months_without_it() -> None:
    """CMP-10: a month lacking dayOfMonth has no occurrence (no clamping to the 30th)."""
    recurrence = Recurrence(
        start_at=_local(2026, 1, 31, 10, 0),
        interval_type=RecurrenceInterval.MONTHLY,
        day_of_month=31,
    )
    assert _first(recurrence, 4) == [
        "2026-01-31 10:00 Sat",
        "2026-03-31 10:00 Tue",
        "2026-05-31 10:00 Sun",
        "2026-07-31 10:00 Fri",
    ]


def test_monthly_day_of_month_every_three_months() -> None:
    recurrence = Recurrence(
        start_at=_local(2026, 1, 20, 7, 0),
        interval_type=RecurrenceInterval.MONTHLY,
        interval=3,
        day_of_month=15,
    )
    # 15 January is before startAt: the first occurrence is April's.
    assert _first(recurrence, 3) == [
        "2026-04-15 07:00 Wed",
        "2026-07-15 07:00 Wed",
        "2026-10-15 07:00 Thu",
    ]


def test_monthly_nth_weekday() -> None:
    """CMP-9: dayOfWeek + weekOfMonth: the second Tuesday of every month."""
    recurrence = Recurrence(
        start_at=_local(2026, 2, 1, 12, 0),
        interval_type=RecurrenceInterval.MONTHLY,
        day_of_week=Weekday.TUESDAY,
        week_of_month=2,
    )
    assert _first(recurrence, 3) == [
        "2026-02-10 12:00 Tue",
        "2026-03-10 12:00 Tue",
        "2026-04-14 12:00 Tue",
    ]


def test_monthly_fourth_weekday_when_the_month_starts_on_it() -> None:
    recurrence = Recurrence(
        start_at=_local(2026, 6, 1, 0, 0),  # June 2026 starts on a Monday
        interval_type=RecurrenceInterval.MONTHLY,
        day_of_week=Weekday.MONDAY,
        week_of_month=4,
    )
    assert _first(recurrence, 1) == ["2026-06-22 00:00 Mon"]


def test_end_at_stops_the_schedule() -> None:
    """CMP-10: none after endAt (an occurrence exactly at endAt still runs)."""
    recurrence = Recurrence(
        start_at=_local(2026, 3, 2, 9, 0),
        interval_type=RecurrenceInterval.DAILY,
        end_at=_local(2026, 3, 4, 9, 0),
    )
    assert _first(recurrence, 10) == [
        "2026-03-02 09:00 Mon",
        "2026-03-03 09:00 Tue",
        "2026-03-04 09:00 Wed",
    ]


def test_impossible_day_ends_instead_of_looping() -> None:
    """31 February every 12 months never happens: the schedule is empty, not endless."""
    recurrence = Recurrence(
        start_at=_local(2026, 2, 1, 9, 0),
        interval_type=RecurrenceInterval.MONTHLY,
        interval=12,
        day_of_month=31,
    )
    assert _first(recurrence, 1) == []
    assert next_occurrence(recurrence, STOCKHOLM) is None


def test_due_and_next_occurrences() -> None:
    """The tick's window (after, until] and the listing's next occurrence."""
    recurrence = Recurrence(
        start_at=_local(2026, 3, 2, 9, 0), interval_type=RecurrenceInterval.DAILY
    )
    first, second, third = islice(occurrences(recurrence, STOCKHOLM), 3)
    assert due_occurrences(recurrence, STOCKHOLM, after=None, until=second) == [first, second]
    assert due_occurrences(recurrence, STOCKHOLM, after=first, until=second) == [second]
    assert due_occurrences(recurrence, STOCKHOLM, after=second, until=second) == []
    assert next_occurrence(recurrence, STOCKHOLM) == first
    assert next_occurrence(recurrence, STOCKHOLM, second) == third
