"""The one injectable clock every time-dependent behaviour reads (GEN-1)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of the current instant, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stays where it is put; tests and replays move it by hand."""

    def __init__(self, instant: datetime) -> None:
        self._instant = _require_aware(instant)

    def now(self) -> datetime:
        return self._instant

    def set(self, instant: datetime) -> None:
        self._instant = _require_aware(instant)


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("clock instants must be timezone-aware")
    return instant.astimezone(UTC)


CLOCK_OFFSET_ENV = "KAMPANJ_CLOCK_OFFSET_FILE"


class OffsetClock:
    """The wall clock moved forward by the number of seconds written in a file.

    Tests drive the clock of `kampanj worker` processes with it (``KAMPANJ_CLOCK_OFFSET_FILE``):
    writing a larger offset makes Waits and leases come due without sleeping. The file is
    read again only when it changes; replace it atomically (write a new file, rename it).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._offset = timedelta()

    def now(self) -> datetime:
        found = os.stat(self._path)
        stamp = (found.st_ino, found.st_mtime_ns)
        if stamp != self._stamp:
            with open(self._path, encoding="utf-8") as source:
                self._offset = timedelta(seconds=float(source.read().strip() or 0))
            self._stamp = stamp
        return datetime.now(UTC) + self._offset


def clock_from_env() -> Clock:
    """`OffsetClock` when ``KAMPANJ_CLOCK_OFFSET_FILE`` names a file, else the wall clock."""
    path = os.environ.get(CLOCK_OFFSET_ENV)
    return OffsetClock(path) if path else SystemClock()
