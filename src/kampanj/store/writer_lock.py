"""A reentrant lock granted in arrival order, for one process's SQLite writers.

SQLite has one writer at a time. Without this, threads of one process (an event producer
and a trigger consumer, say) meet in SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms
between retries, and a thread that writes in a tight loop re-takes the lock before a
waiting one wakes up: the waiting one starves. Queued here, each waiting writer gets the
lock in turn as soon as the previous one commits. Other processes still meet the busy
timeout.
"""

from __future__ import annotations

import threading
from types import TracebackType


class FairLock:
    """Tickets served in order; the owning thread may re-enter (a nested write transaction
    fails in SQLite as before instead of waiting for itself here)."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._issued = 0
        self._serving = 0
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._condition:
            if self._owner == me:
                self._depth += 1
                return
            ticket = self._issued
            self._issued += 1
            while self._serving != ticket:
                self._condition.wait()
            self._owner = me
            self._depth = 1

    def waiting(self) -> int:
        """How many threads wait for the lock now."""
        with self._condition:
            return self._issued - self._serving - (1 if self._owner is not None else 0)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._condition:
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
            self._serving += 1
            self._condition.notify_all()
