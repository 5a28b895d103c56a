"""Date arithmetic of smart-list operators (SL-14..SL-17) in the account time zone (GEN-1).

Everything here is pure: the compiler turns the instants and dates computed here into
bound parameters, and the trigger matcher compares them in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from kampanj.model.smartlists import Value
from kampanj.smartlist.catalogue import match_key, parse_relative

UNIT_LENGTH = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),  # 24 h rolling
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}  # SL-15


@dataclass(frozen=True, kw_only=True, slots=True)
class Period:
    """A half-open span of instants ``[start, end)`` and the calendar days it covers."""

    start: datetime
    """First instant inside, UTC."""
    end: datetime
    """First instant after, UTC."""
    first_day: date
    """First calendar day inside (account zone)."""
    end_day: date
    """First calendar day after (account zone)."""


def relative_span(text: Value) -> timedelta:
    """``30 days`` → 30 × 24 h (SL-15); the value was validated by the catalogue."""
    parsed = parse_relative(str(text))
    if parsed is None:
        raise ValueError(f"not a relative time: {text!r}")
    count, unit = parsed
    return count * UNIT_LENGTH[unit]


def calendar_day(value: Value, zone: tzinfo) -> date:
    """The calendar day a filter value names: ``2026-03-01`` or a date-time in ``zone``."""
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if instant.tzinfo is None:
            return instant.date()
        return instant.astimezone(zone).date()


def day_start(day: date, zone: tzinfo) -> datetime:
    """Midnight starting ``day`` in ``zone``, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def days_period(first: date, last: date, zone: tzinfo) -> Period:
    """The calendar days ``first``…``last`` inclusive."""
    end_day = last + timedelta(days=1)
    return Period(
        start=day_start(first, zone),
        end=day_start(end_day, zone),
        first_day=first,
        end_day=end_day,
    )


def local_day(instant: datetime, zone: tzinfo) -> date:
    return instant.astimezone(zone).date()


def time_frame(name: Value, now: datetime, zone: tzinfo) -> Period:
    """The calendar period of an ``in time frame`` preset containing or before ``now`` (SL-17)."""
    today = local_day(now, zone)
    key = match_key(str(name))
    if key in ("today", "yesterday"):
        day = today if key == "today" else today - timedelta(days=1)
        return days_period(day, day, zone)
    if key in ("this week", "last week"):
        monday = today - timedelta(days=today.weekday())  # weeks run Monday–Sunday
        if key == "last week":
            monday -= timedelta(days=7)
        return days_period(monday, monday + timedelta(days=6), zone)
    if key in ("this month", "last month"):
        first = today.replace(day=1)
        if key == "last month":
            first = (first - timedelta(days=1)).replace(day=1)
        return days_period(first, _next_month(first) - timedelta(days=1), zone)
    if key in ("this quarter", "last quarter"):
        first = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        if key == "last quarter":
            first = _add_months(first, -3)
        return days_period(first, _add_months(first, 3) - timedelta(days=1), zone)
    if key in ("this year", "last year"):
        year = today.year if key == "this year" else today.year - 1
        return days_period(date(year, 1, 1), date(year, 12, 31), zone)
    raise ValueError(f"unknown time frame {name!r}")


def _next_month(first: date) -> date:
    return _add_months(first, 1)


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
