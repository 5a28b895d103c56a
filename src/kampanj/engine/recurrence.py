"""Occurrences of a recurring batch schedule (CMP-9, CMP-10), pure calendar arithmetic.

Every occurrence is at ``startAt``'s local wall-clock time in the account time zone, so a
daily 09:00 run stays at 09:00 across daylight-saving changes (GEN-1). Weeks start on
Monday; weekly intervals count from the week holding ``startAt``. Monthly ``dayOfMonth``
skips months without that day; ``dayOfWeek`` + ``weekOfMonth`` picks the n-th such weekday.
No occurrence is before ``startAt`` or after ``endAt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo

from kampanj.model.campaigns import Recurrence, RecurrenceInterval, Weekday

_WEEKDAY_NUMBER = {day: number for number, day in enumerate(Weekday)}
_SATURDAY = 5
# A period (day, week, month) without any occurrence is possible (31st of February every
# 12 months); this many empty periods in a row end the schedule instead of looping forever.
_MAX_EMPTY_PERIODS = 1_000


def occurrences(recurrence: Recurrence, zone: tzinfo) -> Iterator[datetime]:
    """Every occurrence (UTC), ascending."""
    start = recurrence.start_at.astimezone(zone)
    at = start.time().replace(tzinfo=None)
    empty = 0
    for days in _periods(recurrence, start.date()):
        found = False
        for day in days:
            instant = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
            if instant < recurrence.start_at:
                continue
            if recurrence.end_at is not None and instant > recurrence.end_at:
                return
            found = True
            yield instant
        empty = 0 if found else empty + 1
        if empty >= _MAX_EMPTY_PERIODS:
            return


def next_occurrence(
    recurrence: Recurrence, zone: tzinfo, after: datetime | None = None
) -> datetime | None:
    """The first occurrence strictly after ``after`` (the very first when None)."""
    for instant in occurrences(recurrence, zone):
        if after is None or instant > after:
            return instant
    return None


def due_occurrences(
    recurrence: Recurrence, zone: tzinfo, *, after: datetime | None, until: datetime
) -> list[datetime]:
    """Occurrences in ``(after, until]`` (from the first when ``after`` is None)."""
    due = []
    for instant in occurrences(recurrence, zone):
        if instant > until:
            break
        if after is None or instant > after:
            due.append(instant)
    return due


def _periods(recurrence: Recurrence, first: date) -> Iterator[list[date]]:
    """The candidate days of each period (every interval-th day / week / month), in order."""
    step = max(recurrence.interval, 1)
    match recurrence.interval_type:
        case RecurrenceInterval.DAILY:
            day = first
            while True:
                weekend = day.weekday() >= _SATURDAY
                yield [] if recurrence.weekday_only and weekend else [day]
                day += timedelta(days=step)
        case RecurrenceInterval.WEEKLY:
            monday = first - timedelta(days=first.weekday())
            offsets = sorted(_WEEKDAY_NUMBER[d] for d in set(recurrence.weekday_mask))
            while True:
                yield [monday + timedelta(days=offset) for offset in offsets]
                monday += timedelta(weeks=step)
        case RecurrenceInterval.MONTHLY:
            month = first.year * 12 + first.month - 1
            while True:
                chosen = _monthly_day(recurrence, month // 12, month % 12 + 1)
                yield [] if chosen is None else [chosen]
                month += step


def _monthly_day(recurrence: Recurrence, year: int, month: int) -> date | None:
    if recurrence.day_of_month is not None:
        try:
            return date(year, month, recurrence.day_of_month)
        except ValueError:  # CMP-10: a month lacking the day has no occurrence
            return None
    if recurrence.day_of_week is None or recurrence.week_of_month is None:
        return None
    first = date(year, month, 1)
    shift = (_WEEKDAY_NUMBER[recurrence.day_of_week] - first.weekday()) % 7
    return first + timedelta(days=shift + 7 * (recurrence.week_of_month - 1))


__all__ = ["due_occurrences", "next_occurrence", "occurrences"]
