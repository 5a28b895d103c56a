"""Leases: which worker works on a run chunk or the scheduler tick, and until when.

A lease is a row (name, owner, expires_at). Taking it is one transaction: insert it, or
take it over when it expired, is already ours or is only a ``SENT`` marker. A chunk whose
message was put on the queue carries a ``SENT`` marker until a worker takes the lease, so
the sweep does not send it again while the message waits (``mark_sent``). The holder
renews a lease while working; a worker that dies stops renewing and, once the lease
expires, another worker takes over (DESIGN.md §5). Leases decide who works on what; they
are not what keeps a step from running twice: that is the progress marker re-checked under
the run row lock (LEDG-1/2).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from kampanj.store.database import Database
from kampanj.store.schema import lease

TICK = "tick"
DISPATCH = "dispatch"
SENT = "sent"
"""Owner of a chunk lease whose message is on the queue, not yet taken by a worker."""


def chunk_lease(run_id: int, chunk: int) -> str:
    return f"run:{run_id}:chunk:{chunk}"


def acquire(database: Database, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease ``name`` for ``owner`` until ``now + ttl``; False if someone else
    holds a lease that has not expired."""
    try:
        with database.begin() as connection:
            statement = select(lease.c.owner, lease.c.expires_at).where(lease.c.name == name)
            held = connection.execute(statement.with_for_update()).first()
            if held is None:
                connection.execute(
                    lease.insert().values(
                        name=name, owner=owner, acquired_at=now, expires_at=now + ttl
                    )
                )
                return True
            if held.owner not in (owner, SENT) and held.expires_at > now:
                return False
            connection.execute(
                update(lease)
                .where(lease.c.name == name)
                .values(owner=owner, acquired_at=now, expires_at=now + ttl)
            )
            return True
    except IntegrityError:
        return False  # another worker inserted it first (PostgreSQL)


def renew(database: Database, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Extend our lease; False when it is no longer ours (it expired and was taken over)."""
    with database.begin() as connection:
        result = connection.execute(
            update(lease)
            .where(lease.c.name == name, lease.c.owner == owner)
            .values(expires_at=now + ttl)
        )
        return result.rowcount == 1


def release(database: Database, name: str, owner: str) -> None:
    with database.begin() as connection:
        release_in(connection, name, owner)


def release_in(connection: Connection, name: str, owner: str) -> None:
    """Release our lease in the caller's transaction."""
    connection.execute(delete(lease).where(lease.c.name == name, lease.c.owner == owner))


def live_chunk_leases(connection: Connection, run_id: int, now: datetime) -> set[int]:
    """Chunks of the run a live worker holds right now."""
    prefix = chunk_lease(run_id, 0)[:-1]
    statement = select(lease.c.name).where(
        lease.c.name.startswith(prefix, autoescape=True), lease.c.expires_at > now
    )
    return {int(name[len(prefix) :]) for name in connection.execute(statement).scalars()}


def mark_sent(
    database: Database,
    names: Sequence[str],
    now: datetime,
    ttl: timedelta,
    *,
    over_markers: bool = False,
) -> list[str]:
    """Of the chunk leases ``names``, those nobody holds and no earlier message waits for
    (``over_markers``: no message waits, the queue being empty): each gets a ``SENT`` marker
    until ``now + ttl``, in one transaction, and is returned for its message to be sent
    (after the commit, so a worker finds the marker)."""
    if not names:
        return []
    try:
        with database.begin() as connection:
            rows = {
                row.name: row
                for start in range(0, len(names), 500)
                for row in connection.execute(
                    select(lease.c.name, lease.c.owner, lease.c.expires_at)
                    .where(lease.c.name.in_(names[start : start + 500]))
                    .with_for_update()
                )
            }
            free = [
                n
                for n in names
                if n not in rows
                or rows[n].expires_at <= now
                or (over_markers and rows[n].owner == SENT)
            ]
            taken = [n for n in free if n in rows]
            if taken:
                connection.execute(
                    update(lease)
                    .where(lease.c.name.in_(taken))
                    .values(owner=SENT, acquired_at=now, expires_at=now + ttl)
                )
            fresh = [n for n in free if n not in rows]
            if fresh:
                connection.execute(
                    lease.insert(),
                    [
                        {"name": n, "owner": SENT, "acquired_at": now, "expires_at": now + ttl}
                        for n in fresh
                    ],
                )
            return free
    except IntegrityError:
        return []  # a racing sweep marked them first and sends them


def held_chunks(
    connection: Connection, now: datetime, *, markers: bool = True
) -> set[tuple[int, int]]:
    """(run, chunk) of every chunk lease (and ``SENT`` marker) that has not expired."""
    statement = select(lease.c.name).where(
        lease.c.name.startswith("run:", autoescape=True), lease.c.expires_at > now
    )
    if not markers:
        statement = statement.where(lease.c.owner != SENT)
    held = set()
    for name in connection.execute(statement).scalars():
        _, run_id, _, chunk = name.split(":")
        held.add((int(run_id), int(chunk)))
    return held


def drop_marker(database: Database, name: str) -> None:
    """Remove the ``SENT`` marker of a chunk whose message found nothing left to do."""
    with database.begin() as connection:
        connection.execute(delete(lease).where(lease.c.name == name, lease.c.owner == SENT))


def purge_markers(database: Database, now: datetime) -> int:
    """Remove expired ``SENT`` markers (their messages were lost or found nothing to do)."""
    with database.begin() as connection:
        statement = delete(lease).where(lease.c.owner == SENT, lease.c.expires_at <= now)
        return int(connection.execute(statement).rowcount)
