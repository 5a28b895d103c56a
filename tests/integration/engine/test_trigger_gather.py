"""`triggers.drain` gathers events recorded by waiting writers into one batch (ORD-5)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from triggersupport import CLOCK, PRICING_VISITORS, person_ids, runs, setup, visit_unoffered

from kampanj.engine.triggers import BUSY_BATCH, GATHER_BUSY_SECONDS, GATHER_SECONDS, drain
from kampanj.store.database import Database


@pytest.mark.parametrize("waiting", [1, 0])  # turns waited per look
def test_drain_waits_for_waiting_writers_before_its_next_dispatch(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, waiting: int
) -> None:
    """ORD-5: after a run during which writers took turns, the next dispatch waits
    ``gather`` seconds; the events recorded meanwhile form the next run's cohort together.
    With nobody else writing, no pause."""
    setup(database, tmp_path, PRICING_VISITORS, "Visitors")
    first, *others = person_ids(database)[:4]
    visit_unoffered(database, first)
    turns = itertools.count(0, waiting)  # each look: more turns waited, or the same
    monkeypatch.setattr(database, "writer_turns_waited", lambda: next(turns))
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 1:
            for person in others:  # what the waiting writers record meanwhile
                visit_unoffered(database, person)

    results = drain(database, CLOCK, pause=pause)

    if waiting:
        assert pauses[0] == GATHER_SECONDS
        assert [r.cohort for r in results] == [1, 3]
    else:
        assert pauses == []
        assert [r.cohort for r in results] == [1]
    assert [r["id"] for r in runs(database)] == [r.run_id for r in results]


def test_drain_waits_longer_after_a_dispatch_that_found_a_crowd(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ORD-5: when the last dispatch offered at least BUSY_BATCH activities (a stream), the
    next one waits ``gather_busy`` instead of ``gather``."""
    setup(database, tmp_path, PRICING_VISITORS, "Visitors")
    people = person_ids(database)
    for number in range(BUSY_BATCH):
        visit_unoffered(database, people[number % len(people)])
    turns = itertools.count()
    monkeypatch.setattr(database, "writer_turns_waited", lambda: next(turns))
    pauses: list[float] = []

    drain(database, CLOCK, pause=pauses.append)

    assert pauses and pauses[0] == GATHER_BUSY_SECONDS != GATHER_SECONDS
