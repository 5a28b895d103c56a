"""The `kampanj worker` loop: consumer threads take messages, one thread sweeps.

Each consumer thread takes a message from the queue and does what it names
(engine/worker.py); after a chunk it offers the new activities to triggers and starts the
queued runs that may start. A ``dispatch`` message (sent after an event, queue/notify.py)
does just that last part at once; a ``tick`` message runs a sweep. When the queue is empty
it polls again after ``poll`` seconds.
The sweep thread ticks every ``interval`` seconds (at most one worker ticks at a time, under
the tick lease) and re-sends every unfinished chunk nobody holds.

Only a signal (``stop``) ends the loops. An unexpected error — the database or the queue
going away, a deadlock, a bug in one run — is logged with its traceback, the message goes
back on the queue, and the thread backs off (``backoff`` seconds, doubling up to
``max_backoff``) and carries on: the ledger still says what is unfinished, and the sweep
re-sends whatever no message covers any more.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kampanj.clock import Clock
from kampanj.engine.handoff import start_queued
from kampanj.engine.tick import TickReport
from kampanj.engine.worker import Handoff, WorkerIdentity, offer, run_chunk, sweep
from kampanj.queue import notify
from kampanj.queue.backends import WorkQueue
from kampanj.store.database import Database

log = logging.getLogger("kampanj.worker")


def new_identity(lease_seconds: float) -> WorkerIdentity:
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return WorkerIdentity(owner=owner, lease_ttl=timedelta(seconds=lease_seconds))


def chunk_message(run_id: int, chunk: int) -> dict[str, Any]:
    return {"kind": "chunk", "run": run_id, "chunk": chunk}


@dataclass(kw_only=True)
class Consumer:
    database: Database
    queue: WorkQueue
    clock: Clock
    worker: WorkerIdentity
    concurrency: int = 1
    interval: float = 5.0
    poll: float = 0.2
    backoff: float = 0.5
    max_backoff: float = 30.0
    on_tick: Callable[[TickReport], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    chunks_done: int = 0
    ticks: int = 0
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enqueue(self, run_id: int, chunk: int) -> None:
        self.queue.put(chunk_message(run_id, chunk))

    @property
    def handoff(self) -> Handoff:
        return self.worker.handoff(self.enqueue, self.queue.size, self._redispatch)

    def _redispatch(self, database: Database, clock: Clock) -> None:
        notify.Notifier.over(self.queue).send(database, clock)

    def run(self) -> None:
        """Consume and sweep until ``stop`` is set."""
        threads = [
            threading.Thread(target=self._consume, name=f"consumer-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        threads.append(threading.Thread(target=self._sweep, name="sweep", daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _consume(self) -> None:
        delay = self.backoff
        while not self.stop.is_set():
            message: dict[str, Any] | None = None
            try:
                message = self.queue.get()
                if message is None:
                    self.stop.wait(self.poll)
                else:
                    self.handle(message)
                delay = self.backoff
            except Exception:
                delay = self._failed(f"handling {message or 'the queue'}", delay)
                if message is not None:
                    self._put_back(message)

    def _put_back(self, message: dict[str, Any]) -> None:
        """A failed message goes back on the queue (its chunk's ``SENT`` marker would keep
        the sweep from re-sending it for a while); if that fails too, the sweep re-sends
        it once the marker expires."""
        try:
            self.queue.put(message)
        except Exception:
            log.exception("worker %s: could not put back %r", self.worker.owner, message)

    def _failed(self, doing: str, delay: float) -> float:
        """Log the current exception, wait ``delay`` (or until stopped); the next delay."""
        with self._lock:
            self.errors += 1
        log.exception(
            "worker %s: error while %s; retrying in %.1f s", self.worker.owner, doing, delay
        )
        self.stop.wait(delay)
        return min(delay * 2, self.max_backoff)

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "chunk":
            run_id = int(message["run"])
            outcome = run_chunk(
                self.database,
                self.clock,
                self.worker,
                run_id,
                int(message["chunk"]),
                stopping=self.stop.is_set,
            )
            if outcome == "done":
                with self._lock:
                    self.chunks_done += 1
                offer(self.database, self.clock, self.handoff, run_id)
        elif kind == "dispatch":
            self._dispatch()
        elif kind == "tick":
            self._tick()
        else:
            log.warning("worker %s: ignored unknown message %r", self.worker.owner, message)

    def _dispatch(self) -> None:
        """Offer new activities to triggers and start the queued runs that may start: what
        an event recorded elsewhere asks for (queue/notify.py). With nothing to do: the
        marker's delete and a few index reads.

        The marker goes first, so an event committed from now on sends its own message.
        The dispatch runs under the ``dispatch`` lease (engine/handoff.py), so consumers
        do not queue on the cursor lock and PostgreSQL's activity table lock; when another
        thread or worker holds it, that one asks for another dispatch after its own if
        activities are still waiting, so ours are not left for the sweep."""
        notify.taken(self.database)
        self.handoff.dispatch(self.database, self.clock)
        start_queued(self.database, self.clock, self.handoff)

    def _sweep(self) -> None:
        delay = self.backoff
        while not self.stop.is_set():
            try:
                self._tick()
                delay = self.backoff
                self.stop.wait(self.interval)
            except Exception:
                delay = self._failed("sweeping", delay)

    def _tick(self) -> None:
        report = sweep(self.database, self.clock, self.worker, self.handoff)
        if report is None:
            return
        with self._lock:
            self.ticks += 1
        if self.on_tick is not None:
            self.on_tick(report)
