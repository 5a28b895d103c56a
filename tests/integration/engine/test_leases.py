"""Leases: one holder at a time, taken over only once expired; a lost lease cannot be
renewed or released by its old holder (DESIGN.md §5, LEDG-4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from kampanj.engine import leases
from kampanj.store import schema
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
NAME = leases.chunk_lease(5, 2)


def test_a_live_lease_has_one_holder_and_an_expired_one_is_taken_over(
    database: Database,
) -> None:
    assert leases.acquire(database, NAME, "a", T0, TTL)
    assert leases.acquire(database, NAME, "a", T0 + timedelta(seconds=1), TTL)  # ours: renewed
    assert not leases.acquire(database, NAME, "b", T0 + timedelta(seconds=30), TTL)
    with database.read() as connection:
        assert leases.live_chunk_leases(connection, 5, T0 + timedelta(seconds=30)) == {2}
        assert leases.live_chunk_leases(connection, 6, T0) == set()
    # Renewed at T0 + 1 s: expires at T0 + 31 s; then b takes it over.
    assert leases.acquire(database, NAME, "b", T0 + timedelta(seconds=31), TTL)
    assert not leases.renew(database, NAME, "a", T0 + timedelta(seconds=32), TTL)
    leases.release(database, NAME, "a")  # not a's any more: nothing happens
    with database.read() as connection:
        owner = connection.execute(sa.select(schema.lease.c.owner)).scalar_one()
    assert owner == "b"
    assert leases.renew(database, NAME, "b", T0 + timedelta(seconds=40), TTL)
    leases.release(database, NAME, "b")
    with database.read() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(schema.lease)).scalar() == 0
        )
