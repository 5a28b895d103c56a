"""What a worker does with a message, against the ledger (DESIGN.md §5, ORD-5, LEDG-4).

- ``run_chunk``: take the chunk's lease, execute the chunk's remaining steps chunk-major
  (renewing the lease before each step) at the chunk's clock (engine/handoff.py), then
  complete the run if nobody is left in it — under the run row lock, so exactly one of the
  workers finishing chunks completes it.
- ``offer``: after a chunk, offer the activities it wrote to triggers (when a trigger
  listens to one of them) and start the queued trigger / requested runs that may start
  (their chunks go to the queue).
- ``sweep``: one scheduler tick in queue mode, if no other worker is ticking: interrupted
  runs, due Waits, due scheduled runs and queued runs are sent to the queue chunk by chunk,
  never executed inline. Queue messages are hints: the sweep re-sends whatever the ledger
  says is unfinished, so a lost message or a dead worker only delays work.

Two workers never execute one (run, step, chunk) twice: the lease hands each chunk to one
live worker, and the step transaction re-checks the progress marker under the run row lock
(cohort._step_chunk), which also covers a lease taken over from a worker that was only slow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from kampanj.clock import Clock
from kampanj.engine import leases, triggers
from kampanj.engine.batch import load_flow
from kampanj.engine.cohort import execute_chunk, still_running
from kampanj.engine.handoff import (
    Enqueue,
    Handoff,
    chunk_clock,
    hand_over,
    start_queued,
    unfinished_chunks,
)
from kampanj.engine.runs import Issue, RunStatus, set_status
from kampanj.engine.tick import TickReport, tick
from kampanj.engine.waits import members_left
from kampanj.errors import NotFoundError
from kampanj.store.database import Database

__all__ = [
    "Enqueue",
    "Handoff",
    "WorkerIdentity",
    "hand_over",
    "offer",
    "run_chunk",
    "sweep",
    "unfinished_chunks",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkerIdentity:
    owner: str  # unique per worker process: host, pid, random suffix
    lease_ttl: timedelta

    def handoff(
        self,
        enqueue: Enqueue,
        queue_size: Callable[[], int] | None = None,
        redispatch: Callable[[Database, Clock], object] | None = None,
    ) -> Handoff:
        return Handoff(
            enqueue=enqueue,
            owner=self.owner,
            lease_ttl=self.lease_ttl,
            queue_size=queue_size,
            redispatch=redispatch,
        )


def run_chunk(
    database: Database,
    clock: Clock,
    worker: WorkerIdentity,
    run_id: int,
    chunk: int,
    *,
    stopping: Callable[[], bool] = lambda: False,
) -> str:
    """Execute one chunk of a running run under its lease: ``done``, ``held`` (another live
    worker has it), ``stopped`` (run no longer running, or the lease was lost), ``idle``
    (nothing left in the chunk: a repeated message)."""
    name = leases.chunk_lease(run_id, chunk)
    if not unfinished_chunks(database, run_id, chunk):
        leases.drop_marker(database, name)
        return "idle"
    ttl = worker.lease_ttl
    if not leases.acquire(database, name, worker.owner, clock.now(), ttl):
        return "held"
    released = False
    try:
        steps_clock = chunk_clock(database, clock, run_id, chunk)
        with database.read() as connection:  # cached while no definition changes
            definitions = triggers.current_index(connection, clock).definitions
        try:
            flow = load_flow(database, steps_clock, run_id, definitions=definitions)
        except NotFoundError as error:  # the campaign was deleted meanwhile
            with database.begin() as connection:
                issue = Issue(code="CAMPAIGN_DELETED", message=str(error))
                set_status(
                    connection, run_id, RunStatus.ABORTED, clock.now(), errors=[issue.to_json()]
                )
            return "stopped"
        if flow is None:
            return "stopped"

        renewed = clock.now()

        def keep() -> bool:  # a stopping worker leaves the rest to the sweep
            nonlocal renewed
            if stopping():
                return False
            now = clock.now()
            if now - renewed < ttl / 3:  # still fresh: spare the commit (small runs)
                return True
            renewed = now
            return leases.renew(database, name, worker.owner, now, ttl)

        if not execute_chunk(database, flow, steps_clock, chunk, keep=keep):
            return "stopped"
        _complete(database, steps_clock, run_id, name, worker.owner)
        released = True
        return "done"
    finally:
        if not released:
            leases.release(database, name, worker.owner)


def _complete(database: Database, clock: Clock, run_id: int, lease_name: str, owner: str) -> None:
    """After a chunk: complete the run if nobody is left in it (GEN-6), under the run row
    lock so exactly one finisher does; the chunk's lease goes in the same transaction.

    Each finisher reads after its own last step committed, so the last of several finishing
    at once sees nobody left; the others skip the run row lock, which would otherwise wait
    for every step transaction of the run in flight and hold up the ones behind it."""
    with database.read() as connection:
        left = members_left(connection, run_id)
    if left:
        leases.release(database, lease_name, owner)
        return
    with database.begin() as connection:
        if still_running(connection, run_id) and not members_left(connection, run_id):
            set_status(connection, run_id, RunStatus.COMPLETED, clock.now())
        leases.release_in(connection, lease_name, owner)


def offer(database: Database, clock: Clock, handoff: Handoff, run_id: int) -> int:
    """After a chunk of ``run_id``: dispatch new activities to triggers (CMP-14) if the run
    wrote one some trigger listens to, then start the queued runs that may start now (the
    chunk may have freed their people); how many runs were started."""
    with database.read() as connection:
        listened = triggers.current_index(connection, clock).type_ids
    if triggers.wrote_listened(database, run_id, listened):
        handoff.dispatch(database, clock)
    return len(start_queued(database, clock, handoff))


def sweep(
    database: Database, clock: Clock, worker: WorkerIdentity, handoff: Handoff
) -> TickReport | None:
    """One tick in queue mode unless another worker holds the tick lease (then None)."""
    if not leases.acquire(database, leases.TICK, worker.owner, clock.now(), worker.lease_ttl):
        return None
    try:
        return tick(database, clock, to=handoff)
    finally:
        leases.release(database, leases.TICK, worker.owner)
