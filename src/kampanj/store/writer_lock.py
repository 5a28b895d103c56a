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
from collections import deque
from types import TracebackType


class FairLock:
    """Waiting threads queue; a release hands the lock straight to the first of them and
    wakes only that one. The owning thread may re-enter (a nested write transaction fails
    in SQLite as before instead of waiting for itself here)."""

    def __init__(self) -> None:
        self._state = threading.Lock()
        self._queue: deque[tuple[int, threading.Lock]] = deque()
        self._owner: int | None = None
        self._depth = 0
        self._turns_waited = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._state:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None:
                self._owner, self._depth = me, 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._queue.append((me, turn))
            self._turns_waited += 1
        turn.acquire()  # released by the previous owner, who made this thread the owner

    def waiting(self) -> int:
        """How many threads wait for the lock now."""
        with self._state:
            return len(self._queue)

    def turns_waited(self) -> int:
        """How many times so far a thread found the lock taken and queued for it."""
        with self._state:
            return self._turns_waited

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._state:
            self._depth -= 1
            if self._depth:
                return
            if not self._queue:
                self._owner = None
                return
            self._owner, turn = self._queue.popleft()
            self._depth = 1
            turn.release()
