"""CMP-22: a trigger campaign's ``expiresAt`` deactivates it at the first tick after that
instant, once the activities recorded before were offered to it; on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from triggersupport import T0, person_ids, runs, setup, world

from kampanj.clock import FixedClock
from kampanj.engine import triggers
from kampanj.engine.activation import activate
from kampanj.engine.events import record_event
from kampanj.engine.tick import tick
from kampanj.services.apply import apply_paths
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions

EXPIRING = """\
      - name: Expiring
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Interesting Moment: {type: Web, description: visit}
        schedule: {qualification: every time, expiresAt: "2026-03-03T09:00:00Z"}
      - name: Lasting
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Interesting Moment: {type: Web, description: visit}
        schedule: {qualification: every time}
"""


def _setup(database: Database, tmp_path: Path) -> None:
    """Both campaigns active; ``expiresAt`` is set at T0, a day ahead (LIM-18 wants 15
    minutes: `kampanj apply` reads the wall clock, so it is set through the service)."""
    setup(database, tmp_path, EXPIRING.replace(', expiresAt: "2026-03-03T09:00:00Z"', ""))
    path = tmp_path / "expiring.yaml"
    path.write_text(world(EXPIRING), encoding="utf-8")
    apply_paths(database, [path], clock=FixedClock(T0))
    for name in ("Expiring", "Lasting"):
        activate(database, FixedClock(T0), name)


def _active(database: Database) -> dict[str, bool]:
    with database.read() as connection:
        return {c.name: c.active for c in read_definitions(connection).campaigns}


def test_expires_at_deactivates_a_trigger_campaign(database: Database, tmp_path: Path) -> None:
    _setup(database, tmp_path)
    a = person_ids(database)[0]
    before = tick(database, FixedClock(T0 + timedelta(hours=23)))
    assert [x["action"] for x in before.actions] == []
    assert _active(database) == {"Expiring": True, "Lasting": True}
    # Recorded before the expiry, offered at the tick after it: it still fires the campaign.
    record_event(
        database,
        FixedClock(T0 + timedelta(hours=23, minutes=59)),
        "Visit Webpage",
        person_id=a,
        offer=False,
    )
    after = tick(database, FixedClock(T0 + timedelta(days=1, minutes=1)))
    expired = [x for x in after.actions if x["action"] == "expired"]
    assert [x["campaignId"] for x in expired] == [_id(database, "Expiring")]
    assert _active(database) == {"Expiring": False, "Lasting": True}
    assert sorted(r["status"] for r in runs(database)) == ["completed", "completed"]
    record_event(database, FixedClock(T0 + timedelta(days=2)), "Visit Webpage", person_id=a)
    assert {r["campaign_id"] for r in runs(database)[2:]} == {_id(database, "Lasting")}
    again = tick(database, FixedClock(T0 + timedelta(days=3)))
    assert [x for x in again.actions if x["action"] == "expired"] == []


def _id(database: Database, name: str) -> int:
    with database.read() as connection:
        (found,) = [c.id for c in read_definitions(connection).campaigns if c.name == name]
    assert found is not None
    return found


def test_an_activity_at_or_after_expires_at_does_not_fire_it(
    database: Database, tmp_path: Path
) -> None:
    """CMP-22: the dispatcher compares the activity's date with ``expiresAt``, so an
    activity at (or after) that instant fires nothing even while no tick has deactivated
    the campaign yet; one a moment before still fires it."""
    _setup(database, tmp_path)
    a, b = person_ids(database)[:2]
    expires = T0 + timedelta(days=1)
    offered_at = FixedClock(expires + timedelta(minutes=5))  # no tick ran in between
    record_event(database, offered_at, "Visit Webpage", person_id=a, at=expires, offer=False)
    record_event(
        database,
        offered_at,
        "Visit Webpage",
        person_id=b,
        at=expires - timedelta(seconds=1),
        offer=False,
    )
    triggers.drain(database, offered_at)
    assert _active(database) == {"Expiring": True, "Lasting": True}
    fired = {(r["campaign_id"], p) for r in runs(database) for p in _persons(database, r["id"])}
    expiring, lasting = _id(database, "Expiring"), _id(database, "Lasting")
    assert fired == {(expiring, b), (lasting, a), (lasting, b)}


def _persons(database: Database, run_id: int) -> list[int]:
    with database.read() as connection:
        return sorted(
            connection.execute(
                sa.select(schema.run_member.c.person_id).where(schema.run_member.c.run_id == run_id)
            ).scalars()
        )
