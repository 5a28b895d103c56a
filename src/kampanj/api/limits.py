"""Per-account call limits kept in the server's memory (API-9, LIM-7).

One server process serves one account, so the counters live here rather than in the
database; a restart forgets the window and the in-flight count, which is what Marketo's
own limits look like to a client that backs off. Time comes from the injected clock.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kampanj.api.envelope import CONCURRENCY_LIMIT, DAILY_QUOTA, RATE_LIMITED, ApiError
from kampanj.api.settings import QUOTA_DAY_ZONE, ApiSettings
from kampanj.clock import Clock


@dataclass(frozen=True, slots=True)
class Admission:
    """A counted call in flight; hand it back with `CallLimiter.finish`."""

    at: datetime
    """When it was admitted (its place in the window)."""
    day: date
    """Quota day it counted against."""


class CallLimiter:
    """Sliding-window rate, concurrency and daily quota for one account."""

    def __init__(self, settings: ApiSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._window: deque[datetime] = deque()
        self._in_flight = 0
        self._day: date | None = None
        self._day_count = 0

    def admit(self) -> Admission:
        """Count one call, or raise 615 / 606 / 607 without counting it."""
        now = self._clock.now()
        day = now.astimezone(QUOTA_DAY_ZONE).date()
        settings = self._settings
        with self._lock:
            horizon = now - timedelta(seconds=settings.rate_limit_window_seconds)
            while self._window and self._window[0] <= horizon:
                self._window.popleft()
            if self._day != day:
                self._day, self._day_count = day, 0
            if self._in_flight >= settings.max_concurrent_calls:
                raise ApiError(
                    CONCURRENCY_LIMIT,
                    f"Max concurrency limit of {settings.max_concurrent_calls} reached",
                )
            if len(self._window) >= settings.rate_limit_calls:
                raise ApiError(
                    RATE_LIMITED,
                    f"Max rate limit of {settings.rate_limit_calls} calls in "
                    f"{settings.rate_limit_window_seconds} seconds exceeded",
                )
            if self._day_count >= settings.daily_quota:
                raise ApiError(DAILY_QUOTA, f"Daily quota of {settings.daily_quota} calls reached")
            self._window.append(now)
            self._day_count += 1
            self._in_flight += 1
        return Admission(now, day)

    def finish(self, admission: Admission, *, counted: bool) -> None:
        """The call ended; ``counted=False`` takes it back out (611 and friends, API-9)."""
        with self._lock:
            self._in_flight -= 1
            if counted:
                return
            try:
                self._window.remove(admission.at)
            except ValueError:
                pass  # already slid out of the window
            if self._day == admission.day:
                self._day_count -= 1
