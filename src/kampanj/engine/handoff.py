"""Handing runs to the workers through the queue (DESIGN.md §5, ORD-3, ORD-5, GEN-2, GEN-4).

With a work queue the scheduler tick starts runs but executes none: it sends one message per
unfinished chunk and the consumers execute them (engine/worker.py). This module decides what
is sent:

- ``hand_over`` / ``enqueue_run``: a qualified or interrupted run's unfinished chunks.
- ``start_queued``: queued trigger and requested runs, oldest first (ORD-3, REQ-7). A run
  starts only when none of its people is still active in an unfinished run enqueued before
  it, so each person takes their runs one after the other, as with one sequential queue,
  however many workers execute chunks (GEN-2); runs of other people go ahead meanwhile
  (ORD-6). People parked by a Wait do not hold anything up.
- ``chunk_clock``: the instant a chunk's steps run at — the resume time of people woken
  from a Wait, the due time of a scheduled run, else the worker's clock (GEN-4).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from kampanj.clock import Clock, FixedClock
from kampanj.engine import leases
from kampanj.engine.batch import finish_run
from kampanj.engine.runs import MemberState, RunKind, RunResult, RunStatus
from kampanj.store.database import Database
from kampanj.store.schema import run, run_member, scheduled_run

Enqueue = Callable[[int, int], None]
"""Send "execute run R chunk C" to the workers."""

_QUEUED_KINDS = (RunKind.TRIGGER.value, RunKind.REQUESTED.value)


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
    """Send every chunk of a running run to the workers; a run with nobody left in it
    completes at once. The run's result."""
    chunks = unfinished_chunks(database, run_id)
    for chunk in chunks:
        enqueue(run_id, chunk)
    return finish_run(database, clock, run_id, finished=not chunks)


def resume_by_queue(database: Database, clock: Clock, run_id: int, enqueue: Enqueue) -> RunResult:
    """An interrupted run: re-send its chunks nobody holds, or complete it if nobody is left."""
    if enqueue_run(database, clock, run_id, enqueue) == 0 and not unfinished_chunks(
        database, run_id
    ):
        return finish_run(database, clock, run_id, finished=True)
    return finish_run(database, clock, run_id, finished=False)


def startable(connection: Connection) -> list[int]:
    """Queued trigger / requested runs that may start now, oldest first (see module doc)."""
    queued = connection.execute(
        select(run.c.id, run_member.c.person_id)
        .join(run_member, run_member.c.run_id == run.c.id)
        .where(run.c.status == RunStatus.QUEUED.value, run.c.kind.in_(_QUEUED_KINDS))
        .order_by(run.c.id)
    ).all()
    empty = connection.execute(  # nobody in it (every entry completed at once): starts too
        select(run.c.id).where(
            run.c.status == RunStatus.QUEUED.value,
            run.c.kind.in_(_QUEUED_KINDS),
            ~select(run_member.c.run_id).where(run_member.c.run_id == run.c.id).exists(),
        )
    ).scalars()
    queued_people = (
        select(run_member.c.person_id)
        .join(run, run.c.id == run_member.c.run_id)
        .where(run.c.status == RunStatus.QUEUED.value, run.c.kind.in_(_QUEUED_KINDS))
    )
    busy: dict[int, int] = {
        int(row[0]): int(row[1])
        for row in connection.execute(
            select(run_member.c.person_id, func.min(run_member.c.run_id))
            .join(run, run.c.id == run_member.c.run_id)
            .where(
                run.c.status == RunStatus.RUNNING.value,
                run_member.c.state == MemberState.ACTIVE.value,
                run_member.c.person_id.in_(queued_people),
            )
            .group_by(run_member.c.person_id)
        )
    }
    people: dict[int, set[int]] = {}
    for run_id, person_id in queued:
        people.setdefault(run_id, set()).add(person_id)
    ahead: set[int] = set()  # people in an earlier queued run, started or not
    chosen: list[int] = []
    for run_id, persons in people.items():
        if not persons & ahead and all(busy.get(p, run_id) >= run_id for p in persons):
            chosen.append(run_id)
        ahead |= persons
    return sorted({*chosen, *empty})


def start_queued(database: Database, clock: Clock, enqueue: Enqueue) -> list[RunResult]:
    """Start every startable queued run (queued → running) and send its chunks."""
    with database.begin() as connection:
        claimed = [run_id for run_id in startable(connection) if _claim(connection, run_id, clock)]
    return [hand_over(database, clock, run_id, enqueue) for run_id in claimed]


def _claim(connection: Connection, run_id: int, clock: Clock) -> bool:
    """Queued → running, only if still queued (two workers never start one run twice)."""
    statement = (
        update(run)
        .where(run.c.id == run_id, run.c.status == RunStatus.QUEUED.value)
        .values(status=RunStatus.RUNNING.value, started_at=clock.now())
    )
    return connection.execute(statement).rowcount == 1


def chunk_clock(database: Database, clock: Clock, run_id: int, chunk: int) -> Clock:
    """The clock a chunk's steps run with (GEN-4): people woken from a Wait continue at their
    resume time, a scheduled run's chunks at its due time; anything else now."""
    with database.read() as connection:
        woken = connection.execute(
            select(func.max(run_member.c.wake_at)).where(
                run_member.c.run_id == run_id,
                run_member.c.chunk == chunk,
                run_member.c.state == MemberState.ACTIVE.value,
            )
        ).scalar()
        due: datetime | None = (
            woken
            or connection.execute(
                select(scheduled_run.c.run_at).where(scheduled_run.c.run_id == run_id)
            ).scalar()
        )
    return clock if due is None else FixedClock(due)
