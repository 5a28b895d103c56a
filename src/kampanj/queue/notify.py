"""Waking the workers after an event: one ``dispatch`` message, coalesced (DESIGN.md §5, CMP-14).

Whatever records activities or requests calls ``wake(database, clock)`` (protocol `Wake`)
after its transaction committed: `Notifier` for separate `kampanj worker` processes
(`kampanj event`, `kampanj request`, `kampanj people import`, the REST API under `kampanj
serve --workers 0`), `LocalNotifier` for the worker thread of `kampanj serve --workers 1`,
which it wakes through a `threading.Event`.

`Notifier.wake` works as follows. If the workers have something to do — an activity not yet
offered to triggers, or a queued trigger or requested run — one ``{"kind": "dispatch"}``
message goes on the queue, and the consumer that takes it offers the activities and starts
the queued runs at once instead of at the next sweep.

Coalescing: the message is sent only by whoever puts a ``SENT`` marker named `MARKER` in the
``lease`` table (engine/leases.py ``mark_sent``, one transaction with the row locked, so of
several processes at once exactly one wins). The consumer that takes the message drops the
marker *before* it dispatches (`taken`), so an event committed after that drop sends a new
message and one committed before it is seen by that dispatch: no event is left waiting for
the sweep, and at most one dispatch message waits at a time. A marker whose message was lost
(its consumer died, the queue was flushed, nobody consumes) expires after `MARKER_TTL`; the
next event then sends again, and the sweep covers the gap meanwhile.

Sending is best effort: the event is recorded whatever happens here. A queue that cannot be
opened or reached is logged, the marker is dropped so the next event tries again, and the
sweep offers what was recorded (LEDG-4).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection

from kampanj.clock import Clock
from kampanj.engine import leases
from kampanj.engine.handoff import RESEND_AFTER, caught_up
from kampanj.engine.triggers import next_queued
from kampanj.queue.backends import WorkQueue, open_queue
from kampanj.store.database import Database

__all__ = [
    "DISPATCH_MESSAGE",
    "MARKER",
    "MARKER_TTL",
    "LocalNotifier",
    "Notifier",
    "Wake",
    "pending",
    "taken",
    "wake_through",
]

log = logging.getLogger("kampanj.notify")

DISPATCH_MESSAGE: dict[str, Any] = {"kind": "dispatch"}
MARKER = "dispatch:sent"
"""Lease row of the dispatch message waiting on the queue (owner ``SENT``)."""
MARKER_TTL = RESEND_AFTER
"""How long a dispatch message may wait before the next event sends another, as for chunks."""


def pending(connection: Connection) -> bool:
    """Whether the workers have something to start: an activity not yet offered to triggers
    or a queued trigger / requested run (three index reads, no write)."""
    return not caught_up(connection) or next_queued(connection) is not None


def taken(database: Database) -> None:
    """The consumer took the dispatch message: drop the marker before dispatching, so an
    event committed from now on sends a new message (see module doc)."""
    leases.drop_marker(database, MARKER)


class Wake(Protocol):
    """Called after a commit that may give the workers something to start."""

    def wake(self, database: Database, clock: Clock) -> bool:
        """Wake the workers if they have something to start; whether they were woken.
        Never raises: the event stands and the next sweep or tick starts its runs."""
        ...


def _has_work(database: Database) -> bool | None:
    """`pending`, or None when it could not be read (logged)."""
    try:
        with database.read() as connection:
            return pending(connection)
    except Exception:
        log.exception("could not check for work to hand to the workers")
        return None


class LocalNotifier:
    """Wakes a worker thread of this process (`kampanj serve --workers 1`): sets ``event``,
    which the thread waits on between ticks (cli/serve.py ``Ticker``)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def wake(self, database: Database, clock: Clock) -> bool:
        """Set the event if there is something to start, or if that could not be read (the
        thread finds out; setting an event costs nothing)."""
        if _has_work(database) is False:
            return False
        self.event.set()
        return True


class Notifier:
    """Sends coalesced dispatch messages to one work queue, opened on first use."""

    def __init__(
        self, open_: Callable[[], WorkQueue], *, owns: bool = True, ttl: timedelta = MARKER_TTL
    ) -> None:
        self._open = open_
        self._owns = owns
        self._queue: WorkQueue | None = None
        self._lock = threading.Lock()
        self.ttl = ttl

    @classmethod
    def for_url(cls, url: str | None, database_url: str) -> Notifier:
        """The queue ``url``, else ``KAMPANJ_QUEUE_URL``, else the database's default
        (queue/backends.py), opened only when a message is sent."""
        return cls(lambda: open_queue(url, database_url))

    @classmethod
    def over(cls, queue: WorkQueue) -> Notifier:
        """Over a queue the caller already holds (and closes)."""
        return cls(lambda: queue, owns=False)

    def wake(self, database: Database, clock: Clock) -> bool:
        """After a commit: one dispatch message if the workers have something to do and no
        dispatch message waits already; whether one was sent. Never raises."""
        if not _has_work(database):
            return False
        return self.send(database, clock)

    def send(self, database: Database, clock: Clock) -> bool:
        """One dispatch message unless one waits (the marker); whether it was sent. Never
        raises: a failure is logged and the marker dropped, so the next event tries again."""
        try:
            if not leases.mark_sent(database, [MARKER], clock.now(), self.ttl):
                return False  # a dispatch message waits; its consumer will see this event
        except Exception:
            log.exception("could not mark a dispatch message as sent")
            return False
        try:
            self.queue().put(DISPATCH_MESSAGE)
            return True
        except Exception as error:
            log.warning(
                "could not put a dispatch message on the work queue (%s); the event is "
                "recorded and the next worker sweep offers it",
                error,
            )
        try:
            leases.drop_marker(database, MARKER)
        except Exception:
            log.exception("could not drop the dispatch marker; it expires by itself")
        return False

    def queue(self) -> WorkQueue:
        with self._lock:
            if self._queue is None:
                self._queue = self._open()
            return self._queue

    def close(self) -> None:
        """Close the queue this notifier opened (not one it was handed)."""
        with self._lock:
            queue, self._queue = self._queue, None
        if queue is not None and self._owns:
            try:
                queue.close()
            except Exception:
                log.exception("could not close the work queue")


def wake_through(url: str | None, database: Database, clock: Clock) -> bool:
    """What a CLI command does after its commit: `Notifier.for_url` (the queue opened only
    if a message is sent), one `Notifier.wake`, closed; whether a message was sent."""
    notifier = Notifier.for_url(url, database.url)
    try:
        return notifier.wake(database, clock)
    finally:
        notifier.close()
