"""Handing runs to the workers through the queue (DESIGN.md §5, ORD-3, ORD-5, GEN-2, GEN-4).

With a work queue the scheduler tick starts runs but executes none: it sends one message per
unfinished chunk and the consumers execute them (engine/worker.py). This module decides what
is sent:

- ``hand_over``: a qualified run's chunks; ``resend``: the sweep's recovery, every
  unfinished chunk no live worker holds and no waiting message covers (``SENT`` markers,
  engine/leases.py), so a backlog on the queue is not sent again at every sweep.
- ``start_queued``: queued trigger and requested runs, oldest first (ORD-3, REQ-7). A run
  starts only when none of its people is still active in an unfinished run enqueued before
  it, so each person takes their runs one after the other, as with one sequential queue,
  however many workers execute chunks (GEN-2); runs of other people go ahead meanwhile
  (ORD-6). People parked by a Wait do not hold anything up.
- ``chunk_clock``: the instant a chunk's steps run at — the resume time of people woken
  from a Wait, the due time of a scheduled run, else the worker's clock (GEN-4).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, update

from kampanj.clock import Clock, FixedClock
from kampanj.engine import leases, triggers
from kampanj.engine.batch import finish_run
from kampanj.engine.runs import MemberState, RunKind, RunResult, RunStatus
from kampanj.store.database import Database
from kampanj.store.schema import (
    RUN_MEMBER_LIVE,
    activity,
    run,
    run_member,
    scheduled_run,
    trigger_cursor,
)

Enqueue = Callable[[int, int], None]
"""Put "execute run R chunk C" on the work queue."""

_QUEUED_KINDS = (RunKind.TRIGGER.value, RunKind.REQUESTED.value)

RESEND_AFTER = timedelta(minutes=2)
"""How long a sent chunk message may wait on the queue before the sweep sends another."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Handoff:
    """A worker's way to the queue: ``enqueue`` and who it is (for the dispatch lease)."""

    enqueue: Enqueue
    owner: str
    lease_ttl: timedelta
    resend_after: timedelta = RESEND_AFTER
    queue_size: Callable[[], int] | None = None
    """Messages waiting on the queue, when the queue can tell."""
    redispatch: Callable[[Database, Clock], object] | None = None
    """Ask for another dispatch soon (a ``dispatch`` message, queue/notify.py)."""

    def send(
        self,
        database: Database,
        clock: Clock,
        chunks: Sequence[tuple[int, int]],
        *,
        queue_empty: bool = False,
    ) -> int:
        """Send the chunks nobody holds and no waiting message covers (none does when the
        queue is empty); how many were sent."""
        names = [leases.chunk_lease(run_id, chunk) for run_id, chunk in chunks]
        free = set(
            leases.mark_sent(
                database, names, clock.now(), self.resend_after, over_markers=queue_empty
            )
        )
        sent = 0
        for (run_id, chunk), name in zip(chunks, names, strict=True):
            if name in free:
                self.enqueue(run_id, chunk)
                sent += 1
        return sent

    def dispatch(self, database: Database, clock: Clock) -> None:
        """Offer new activities to triggers unless another thread or worker is at it (its
        dispatch may take a while under load; ours would only queue up behind it, and on
        PostgreSQL every dispatcher waiting for the activity table's SHARE lock holds up
        the writers).

        The one at it looks again after releasing the lease and, when activities are still
        waiting, asks for another dispatch (``redispatch``): whatever a turned-away
        dispatcher wanted offered committed before that release, so it is not left for
        the sweep, and nobody waits for the lease meanwhile."""
        with database.read() as connection:
            if caught_up(connection):
                return
        owner = f"{self.owner}:{threading.get_ident()}"
        if not leases.acquire(database, leases.DISPATCH, owner, clock.now(), self.lease_ttl):
            return
        try:
            triggers.dispatch(database, clock)
        finally:
            leases.release(database, leases.DISPATCH, owner)
        if self.redispatch is not None:
            with database.read() as connection:
                waiting = not caught_up(connection)
            if waiting:
                self.redispatch(database, clock)


def caught_up(connection: Connection) -> bool:
    """Whether every activity was offered to triggers already (two reads, no write)."""
    position = connection.execute(
        select(trigger_cursor.c.last_activity_id).where(trigger_cursor.c.id == 1)
    ).scalar()
    highest = connection.execute(select(func.max(activity.c.id))).scalar()
    return highest is None or (position is not None and int(position) >= int(highest))


def plain(enqueue: Enqueue) -> Handoff:
    """A handoff for a process that only sends (``kampanj run --enqueue``)."""
    return Handoff(enqueue=enqueue, owner=f"sender:{os.getpid()}", lease_ttl=timedelta(minutes=1))


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


def hand_over(
    database: Database, clock: Clock, run_id: int, handoff: Handoff | Enqueue
) -> RunResult:
    """Send every chunk of a running run to the workers; a run with nobody left in it
    completes at once. The run's result."""
    sender = handoff if isinstance(handoff, Handoff) else plain(handoff)
    chunks = unfinished_chunks(database, run_id)
    sender.send(database, clock, [(run_id, chunk) for chunk in chunks])
    return finish_run(database, clock, run_id, finished=not chunks)


def resend(database: Database, clock: Clock, handoff: Handoff) -> int:
    """The sweep's recovery: send every unfinished chunk of a running run that no live worker
    holds and no waiting message covers (a lost message, a dead worker's chunk). One pass
    over the ledger; how many were sent."""
    now = clock.now()
    leases.purge_markers(database, now)
    # With nothing on the queue, a live marker covers no message: the one it was set for
    # was lost, e.g. taken by a worker that died before it took the chunk's lease.
    empty = handoff.queue_size is not None and handoff.queue_size() == 0
    with database.read() as connection:
        pending = connection.execute(
            select(run_member.c.run_id, run_member.c.chunk)
            .join(run, run.c.id == run_member.c.run_id)
            .where(
                run.c.status == RunStatus.RUNNING.value,
                run_member.c.state == MemberState.ACTIVE.value,
            )
            .distinct()
            .order_by(run_member.c.run_id, run_member.c.chunk)
        ).all()
        held = leases.held_chunks(connection, now, markers=not empty)
    lost = [(int(r), int(c)) for r, c in pending if (r, c) not in held]
    return handoff.send(database, clock, lost, queue_empty=empty)


def settled_runs(connection: Connection) -> list[int]:
    """Running runs nobody is active or waiting in any more (their finisher died)."""
    left = select(run_member.c.run_id).where(
        run_member.c.run_id == run.c.id,
        run_member.c.state.in_((MemberState.ACTIVE.value, MemberState.WAITING.value)),
    )
    statement = select(run.c.id).where(run.c.status == RunStatus.RUNNING.value, ~left.exists())
    return list(connection.execute(statement.order_by(run.c.id)).scalars())


WINDOW = 100
"""Queued runs looked at per pass, oldest first; later ones wait for the next pass."""
WINDOW_PEOPLE = 2_000
"""…and no more runs than these people fill (at least one run)."""


def startable(connection: Connection) -> list[int]:
    """Queued trigger / requested runs that may start now, oldest first (see module doc)."""
    oldest = list(
        connection.execute(
            select(run.c.id)
            .where(run.c.status == RunStatus.QUEUED.value, run.c.kind.in_(_QUEUED_KINDS))
            .order_by(run.c.id)
            .limit(WINDOW)
        ).scalars()
    )
    if not oldest:
        return []
    people: dict[int, set[int]] = {run_id: set() for run_id in oldest}
    members = select(run_member.c.run_id, run_member.c.person_id).where(
        run_member.c.run_id.in_(oldest)
    )
    for run_id, person_id in connection.execute(members):
        people[run_id].add(person_id)
    window: list[int] = []
    persons: set[int] = set()
    for run_id in oldest:
        if window and len(persons) + len(people[run_id]) > WINDOW_PEOPLE:
            break
        window.append(run_id)
        persons |= people[run_id]
    busy = _busy(connection, sorted(persons))
    ahead: set[int] = set()  # people in an earlier queued run, started or not
    chosen: list[int] = []
    for run_id in window:  # a run nobody is left in (all completed at once) starts too
        mine = people[run_id]
        if not mine & ahead and all(busy.get(p, run_id) >= run_id for p in mine):
            chosen.append(run_id)
        ahead |= mine
    return chosen


def _busy(connection: Connection, persons: Sequence[int]) -> dict[int, int]:
    """Per person, the oldest running run they are still active in. The people are bound
    as a list, so each is an index probe (ix_run_member_person) whatever the statistics
    say about run_member (a fresh 200,000-person cohort may not be analysed yet)."""
    busy: dict[int, int] = {}
    for start in range(0, len(persons), 500):
        statement = (
            select(run_member.c.person_id, func.min(run_member.c.run_id))
            .join(run, run.c.id == run_member.c.run_id)
            .where(
                run_member.c.person_id.in_(persons[start : start + 500]),
                RUN_MEMBER_LIVE,  # ix_run_member_person's condition, so it is used
                run_member.c.state == MemberState.ACTIVE.value,
                run.c.status == RunStatus.RUNNING.value,
            )
            .group_by(run_member.c.person_id)
        )
        busy.update((int(person), int(run_id)) for person, run_id in connection.execute(statement))
    return busy


def start_queued(database: Database, clock: Clock, handoff: Handoff) -> list[int]:
    """Start every startable queued run (queued → running) and send its chunks; their ids.
    A run nobody is left in (every entry completed at once) completes here."""
    with database.read() as connection:
        ready = startable(connection)
    if not ready:
        return []
    with database.begin() as connection:  # each claim re-checks the run is still queued
        claimed = [run_id for run_id in ready if _claim(connection, run_id, clock)]
    for run_id in claimed:
        chunks = unfinished_chunks(database, run_id)
        if chunks:
            handoff.send(database, clock, [(run_id, chunk) for chunk in chunks])
        else:
            finish_run(database, clock, run_id, finished=True)
    return claimed


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
