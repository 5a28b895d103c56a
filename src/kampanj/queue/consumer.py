"""The `kampanj worker` loop: consumer threads take messages, one thread sweeps.

Each consumer thread takes a message from the queue and does what it names
(engine/worker.py); when the queue is empty it polls again after ``poll`` seconds. The
sweep thread ticks every ``interval`` seconds (at most one worker ticks at a time, under
the tick lease) and re-sends every unfinished chunk nobody holds.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kampanj.clock import Clock
from kampanj.engine.tick import TickReport
from kampanj.engine.worker import WorkerIdentity, run_chunk, sweep
from kampanj.queue.backends import WorkQueue
from kampanj.store.database import Database


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
    on_tick: Callable[[TickReport], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    chunks_done: int = 0
    ticks: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _failure: BaseException | None = None

    def enqueue(self, run_id: int, chunk: int) -> None:
        self.queue.put(chunk_message(run_id, chunk))

    def run(self) -> None:
        """Consume and sweep until ``stop`` is set; re-raises a thread's failure."""
        threads = [
            threading.Thread(target=self._guarded, args=(self._consume,), daemon=True)
            for _ in range(self.concurrency)
        ]
        threads.append(threading.Thread(target=self._guarded, args=(self._sweep,), daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self._failure is not None:
            raise self._failure

    def _guarded(self, target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:
            self._failure = error
            self.stop.set()

    def _consume(self) -> None:
        while not self.stop.is_set():
            message = self.queue.get()
            if message is None:
                self.stop.wait(self.poll)
                continue
            self.handle(message)

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "chunk":
            outcome = run_chunk(
                self.database,
                self.clock,
                self.worker,
                int(message["run"]),
                int(message["chunk"]),
                stopping=self.stop.is_set,
            )
            if outcome == "done":
                with self._lock:
                    self.chunks_done += 1
        elif kind in ("tick", "dispatch"):
            self._tick()  # a tick offers new activities to triggers too

    def _sweep(self) -> None:
        while not self.stop.is_set():
            self._tick()
            self.stop.wait(self.interval)

    def _tick(self) -> None:
        report = sweep(self.database, self.clock, self.worker, self.enqueue)
        if report is None:
            return
        with self._lock:
            self.ticks += 1
        if self.on_tick is not None:
            self.on_tick(report)
