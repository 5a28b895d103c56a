"""engine/handoff.Handoff.dispatch: one dispatcher at a time under the ``dispatch`` lease,
and the holder offers what arrived while others found the lease taken (CMP-14, ORD-5)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from triggersupport import CLOCK, person_ids, runs, setup

from kampanj.clock import Clock
from kampanj.engine import handoff
from kampanj.engine.events import record_event
from kampanj.engine.handoff import Handoff, caught_up
from kampanj.engine.triggers import DispatchReport
from kampanj.store.database import Database

VISITORS = """\
      - name: Visitors
        smartList:
          triggers:
            - Visits Web Page: {Web Page: {contains: pricing}}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+5"}
        schedule: {qualification: every time}
"""


def _handoff(owner: str) -> Handoff:
    return Handoff(enqueue=lambda _run, _chunk: None, owner=owner, lease_ttl=timedelta(minutes=1))


def _visit(database: Database, person: int) -> None:
    record_event(
        database, CLOCK, "Visit Webpage", person_id=person, primary="pricing.html", offer=False
    )


def test_the_lease_holder_offers_what_was_recorded_while_others_were_turned_away(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(database, tmp_path, VISITORS, "Visitors")
    first, second = person_ids(database)[:2]
    _visit(database, first)
    holder, other = _handoff("holder"), _handoff("other")
    real = handoff.triggers.dispatch
    reports: list[DispatchReport] = []

    def dispatch(db: Database, clock: Clock, **options: Any) -> DispatchReport:
        report = real(db, clock, **options)
        if not reports:  # while the holder has the lease: an event, and a turned-away peer
            _visit(database, second)
            other.dispatch(database, clock)
            with database.read() as connection:
                assert not caught_up(connection)  # the peer offered nothing
        reports.append(report)
        return report

    monkeypatch.setattr(handoff.triggers, "dispatch", dispatch)
    holder.dispatch(database, CLOCK)

    assert [r.offered for r in reports] == [1, 1]
    with database.read() as connection:
        assert caught_up(connection)
    assert [r["kind"] for r in runs(database)] == ["trigger", "trigger"]
