"""What a worker does with a message, against the ledger (DESIGN.md §5, ORD-5, LEDG-4).

- ``run_chunk``: take the chunk's lease, execute the chunk's remaining steps chunk-major
  (renewing the lease before each step), then complete the run if nobody is left in it —
  under the run row lock, so exactly one of the workers finishing chunks completes it.
- ``sweep``: one scheduler tick, if no other worker is ticking, with interrupted runs
  handed to ``enqueue`` chunk by chunk (those without a live lease) instead of being
  executed inline. Queue messages are hints: the sweep re-sends whatever the ledger says
  is unfinished, so a lost message or a dead worker only delays work.

Two workers never execute one (run, step, chunk) twice: the lease hands each chunk to one
live worker, and the step transaction re-checks the progress marker under the run row lock
(cohort._step_chunk), which also covers a lease taken over from a worker that was only slow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from kampanj.clock import Clock
from kampanj.engine import leases
from kampanj.engine.batch import finish_run, load_flow
from kampanj.engine.cohort import execute_chunk
from kampanj.engine.runs import MemberState, RunResult
from kampanj.engine.tick import TickReport, tick
from kampanj.store.database import Database
from kampanj.store.schema import run_member

Enqueue = Callable[[int, int], None]
"""Send "execute run R chunk C" to the workers."""


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkerIdentity:
    owner: str  # unique per worker process: host, pid, random suffix
    lease_ttl: timedelta


def unfinished_chunks(database: Database, run_id: int, chunk: int | None = None) -> list[int]:
    """Chunks of the run (or just ``chunk``) with people still to take a step now."""
    statement = (
        select(run_member.c.chunk)
        .where(run_member.c.run_id == run_id, run_member.c.state == MemberState.ACTIVE.value)
        .distinct()
        .order_by(run_member.c.chunk)
    )
    if chunk is not None:
        statement = statement.where(run_member.c.chunk == chunk)
    with database.read() as connection:
        return list(connection.execute(statement).scalars())


def enqueue_run(database: Database, clock: Clock, run_id: int, enqueue: Enqueue) -> int:
    """Send every unfinished chunk nobody holds a live lease on; how many were sent."""
    with database.read() as connection:
        held = leases.live_chunk_leases(connection, run_id, clock.now())
    chunks = [c for c in unfinished_chunks(database, run_id) if c not in held]
    for chunk in chunks:
        enqueue(run_id, chunk)
    return len(chunks)


def hand_over(database: Database, clock: Clock, run_id: int, enqueue: Enqueue) -> RunResult:
    """Send every chunk of a freshly qualified run to the workers; a run with nobody in it
    completes at once. The run's result."""
    chunks = unfinished_chunks(database, run_id)
    for chunk in chunks:
        enqueue(run_id, chunk)
    return finish_run(database, clock, run_id, finished=not chunks)


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
    if not unfinished_chunks(database, run_id, chunk):
        return "idle"
    name = leases.chunk_lease(run_id, chunk)
    ttl = worker.lease_ttl
    if not leases.acquire(database, name, worker.owner, clock.now(), ttl):
        return "held"
    try:
        flow = load_flow(database, clock, run_id)
        if flow is None:
            return "stopped"

        def keep() -> bool:  # a stopping worker leaves the rest to the sweep
            return not stopping() and leases.renew(database, name, worker.owner, clock.now(), ttl)

        done = execute_chunk(database, flow, clock, chunk, keep=keep)
        finish_run(database, clock, run_id, finished=done)
        return "done" if done else "stopped"
    finally:
        leases.release(database, name, worker.owner)


def sweep(
    database: Database, clock: Clock, worker: WorkerIdentity, enqueue: Enqueue
) -> TickReport | None:
    """One tick unless another worker holds the tick lease (then None)."""
    if not leases.acquire(database, leases.TICK, worker.owner, clock.now(), worker.lease_ttl):
        return None
    try:

        def resume(database: Database, clock: Clock, run_id: int) -> RunResult:
            if enqueue_run(database, clock, run_id, enqueue) == 0 and not unfinished_chunks(
                database, run_id
            ):
                return finish_run(database, clock, run_id, finished=True)
            return finish_run(database, clock, run_id, finished=False)

        return tick(database, clock, resume=resume)
    finally:
        leases.release(database, leases.TICK, worker.owner)
