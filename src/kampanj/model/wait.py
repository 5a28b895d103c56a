"""The Wait step's grammar and resume time (WAIT-2..6), shared by lint and the engine.

Everything here is pure: instants in, instants out, calendar logic in the account time zone
(GEN-1). ``None`` as a resume time means "no wait": the person continues at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from kampanj.model.campaigns import ParamValue, Weekday

UNIT_LENGTH = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),  # 24 h, not a calendar day
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}  # WAIT-3

_DURATION = re.compile(r"\s*([0-9]+)\s+(minute|hour|day|week|month|year)s?\s*", re.IGNORECASE)
_TIME_OF_DAY = re.compile(r"\s*([01][0-9]|2[0-3]):([0-5][0-9])\s*")
_WEEKDAYS = {day.value.casefold(): number for number, day in enumerate(Weekday)}


@dataclass(frozen=True, kw_only=True, slots=True)
class Duration:
    """A parsed WAIT-2 duration."""

    count: int
    """N ≥ 1."""
    unit: str
    """minute, hour, day, week, month or year."""

    @property
    def length(self) -> timedelta:
        return self.count * UNIT_LENGTH[self.unit]


def parse_duration(text: ParamValue) -> Duration | None:
    """``N unit(s)`` with a whole N ≥ 1, any case (WAIT-2); anything else is None."""
    if not isinstance(text, str):
        return None
    match = _DURATION.fullmatch(text)
    if match is None or int(match.group(1)) < 1:
        return None
    return Duration(count=int(match.group(1)), unit=match.group(2).casefold())


def parse_time_of_day(text: ParamValue) -> time | None:
    """``HH:MM`` on a 24-hour clock (WAIT-4), or None."""
    match = _TIME_OF_DAY.fullmatch(text) if isinstance(text, str) else None
    return None if match is None else time(int(match.group(1)), int(match.group(2)))


def parse_weekdays(value: ParamValue) -> frozenset[int] | None:
    """Weekday names (Monday = 0) of ``endOn.weekdays`` (WAIT-4); None if any is unknown."""
    names: Iterable[object] = value if isinstance(value, tuple) else (value,)
    days = [_WEEKDAYS.get(str(name).strip().casefold()) for name in names]
    if not days or any(day is None for day in days):
        return None
    return frozenset(day for day in days if day is not None)


def parse_instant(text: ParamValue, zone: tzinfo) -> datetime | None:
    """``yyyy-MM-dd`` (00:00 local) or an ISO date-time (local unless it has an offset)."""
    if not isinstance(text, str):
        return None
    candidate = text.strip()
    try:
        return datetime.combine(date.fromisoformat(candidate), time(0), tzinfo=zone).astimezone(UTC)
    except ValueError:
        pass
    try:
        instant = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone)
    return instant.astimezone(UTC)


def _local(day: date, at: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def end_on(end: datetime, weekdays: frozenset[int], at: time | None, zone: tzinfo) -> datetime:
    """The first instant ≥ ``end`` on a listed weekday, at ``at`` if given (WAIT-4)."""
    local = end.astimezone(zone)
    if at is None and local.weekday() in weekdays:
        return end
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in weekdays:
            continue
        candidate = _local(day, at or time(0), zone)
        if candidate >= end:
            return candidate
    raise ValueError("endOn needs at least one weekday")  # pragma: no cover - parse refuses


def duration_resume(
    entry: datetime,
    duration: Duration,
    zone: tzinfo,
    *,
    weekdays: frozenset[int] | None = None,
    at: time | None = None,
) -> datetime:
    """Entry + N·unit (WAIT-3), moved forward by ``endOn`` when given (WAIT-4)."""
    end = entry + duration.length
    if weekdays:
        return end_on(end, weekdays, at, zone)
    return end


def date_resume(entry: datetime, text: ParamValue, zone: tzinfo) -> datetime | None:
    """The WAIT-5 date, or None when it is not in the future at entry (no wait)."""
    instant = parse_instant(text, zone)
    if instant is None or instant <= entry:
        return None
    return instant


def token_resume(
    entry: datetime,
    value: str | None,
    zone: tzinfo,
    *,
    anniversary: bool = False,
    offset_days: int = 0,
) -> datetime | None:
    """A WAIT-6 date-token resume time from the person's rendered value; None = no wait.

    A date means 00:00 local; with ``anniversary`` the month-day moves to its next occurrence
    on or after entry's local day (29 February → 28 February in other years).
    """
    instant = parse_instant(value.strip(), zone) if value and value.strip() else None
    if instant is None:
        return None
    if anniversary:
        local = instant.astimezone(zone)
        today = entry.astimezone(zone).date()
        day = _month_day(today.year, local.month, local.day)
        if day < today:
            day = _month_day(today.year + 1, local.month, local.day)
        instant = _local(day, local.timetz().replace(tzinfo=None), zone)
    instant += timedelta(days=offset_days)
    return instant if instant > entry else None


def _month_day(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a common year
        return date(year, month, day - 1)
