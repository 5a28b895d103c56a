"""engine/handoff.Handoff.dispatch: one dispatcher at a time under the ``dispatch`` lease,
and the holder offers what arrived while others found the lease taken (CMP-14, ORD-5)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from triggersupport import CLOCK, PRICING_VISITORS, person_ids, runs, setup, visit_unoffered

from kampanj.clock import Clock
from kampanj.engine import handoff
from kampanj.engine.handoff import Handoff, caught_up
from kampanj.engine.triggers import DispatchReport
from kampanj.store.database import Database


def _handoff(owner: str, asked: list[str] | None = None) -> Handoff:
    def redispatch(_database: Database, _clock: Clock) -> None:
        assert asked is not None
        asked.append(owner)

    return Handoff(
        enqueue=lambda _run, _chunk: None,
        owner=owner,
        lease_ttl=timedelta(minutes=1),
        redispatch=redispatch if asked is not None else None,
    )


def test_one_dispatcher_at_a_time_and_the_holder_asks_for_what_it_left(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one handoff dispatches under the lease, another is turned away without
    offering anything; after releasing the lease the holder sees the activity recorded
    meanwhile and asks for another dispatch, so it does not wait for the sweep."""
    setup(database, tmp_path, PRICING_VISITORS, "Visitors")
    first, second = person_ids(database)[:2]
    visit_unoffered(database, first)
    asked: list[str] = []
    holder, other = _handoff("holder", asked), _handoff("other", asked)
    real = handoff.triggers.dispatch
    calls: list[str] = []

    def dispatch(db: Database, clock: Clock, **options: Any) -> DispatchReport:
        calls.append("dispatch")
        report = real(db, clock, **options)
        if len(calls) == 1:  # while the holder has the lease: an event, and a peer
            visit_unoffered(database, second)
            other.dispatch(database, clock)
        return report

    monkeypatch.setattr(handoff.triggers, "dispatch", dispatch)
    holder.dispatch(database, CLOCK)
    assert calls == ["dispatch"]  # the peer was turned away: it dispatched nothing
    assert asked == ["holder"]
    monkeypatch.setattr(handoff.triggers, "dispatch", real)
    other.dispatch(database, CLOCK)  # what the asked-for dispatch does
    with database.read() as connection:
        assert caught_up(connection)
    assert asked == ["holder"]  # nothing left: nobody asks again
    assert len(runs(database)) >= 1
