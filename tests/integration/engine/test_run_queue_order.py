"""The run queue: FIFO per requested target, one run at a time per person, pinned flows
(REQ-7, ORD-3, GEN-2, CMP-15), inline and handed to workers, on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from enginesupport import cli
from triggersupport import CLOCK, T0, activities, person_ids, runs, setup, world

from kampanj.clock import FixedClock
from kampanj.engine import handoff
from kampanj.engine.requests import request_campaign
from kampanj.engine.triggers import drain
from kampanj.engine.worker import WorkerIdentity, run_chunk
from kampanj.model.activities import StandardActivity
from kampanj.store import schema
from kampanj.store.database import Database
from testsupport import write

TARGET = """\
      - name: Api Target
        smartList:
          triggers:
            - Campaign is Requested: {Source: is Web Service API}
        flow:
          - Interesting Moment: {type: Web, description: "first {{trigger.Source}}"}
          - Interesting Moment: {type: Web, description: "second"}
        schedule: {qualification: every time}
"""
WORKER = WorkerIdentity(owner="test:1:a", lease_ttl=timedelta(seconds=60))


def _request(database: Database, *people: int) -> int:
    result = request_campaign(database, CLOCK, "Api Target", list(people))
    assert result.run_id is not None
    return result.run_id


def _statuses(database: Database) -> dict[int, str]:
    return {r["id"]: r["status"] for r in runs(database)}


def _moments(database: Database) -> list[tuple[int, int, str]]:
    """(run, person, description) of every Interesting Moment, in activity id order."""
    found = activities(database, activity_type_id=StandardActivity.INTERESTING_MOMENT)
    return [(m["run_id"], m["person_id"], m["attributes"]["Description"]) for m in found]


def test_requested_runs_of_one_target_run_in_enqueue_order(
    database: Database, tmp_path: Path
) -> None:
    """REQ-7, ORD-3: requested runs start in the order they were enqueued, each its own
    run, whatever people they hold."""
    setup(database, tmp_path, TARGET, "Api Target")
    a, b, c = person_ids(database)[:3]
    order = [_request(database, c), _request(database, a, b), _request(database, a)]
    assert order == sorted(order) and len(set(order)) == 3
    assert set(_statuses(database).values()) == {"queued"}
    ran = drain(database, CLOCK)
    assert [r.run_id for r in ran] == order
    assert [run for run, _, _ in _moments(database)] == [order[0]] * 2 + [order[1]] * 4 + [
        order[2]
    ] * 2


def test_workers_start_queued_runs_oldest_first_one_per_person_at_a_time(
    database: Database, tmp_path: Path
) -> None:
    """ORD-3, GEN-2, REQ-7 with workers: the sweep starts queued runs oldest first and sends
    their chunks in that order; a run waits while one of its people is still active in an
    earlier unfinished run, runs of other people go ahead (ORD-6)."""
    setup(database, tmp_path, TARGET, "Api Target")
    a, b, c = person_ids(database)[:3]
    first, second, third, fourth = (
        _request(database, a),
        _request(database, b),
        _request(database, a, c),
        _request(database, c),
    )
    sent: list[tuple[int, int]] = []

    def enqueue(run_id: int, chunk: int) -> None:
        sent.append((run_id, chunk))

    to = handoff.plain(enqueue)

    started = handoff.start_queued(database, CLOCK, to)
    assert started == [first, second]
    assert sent == [(first, 0), (second, 0)]
    assert _statuses(database) == {
        first: "running",
        second: "running",
        third: "queued",
        fourth: "queued",  # c is in the earlier queued run `third`
    }
    assert handoff.start_queued(database, CLOCK, to) == []  # nothing changed
    assert run_chunk(database, CLOCK, WORKER, second, 0) == "done"
    assert handoff.start_queued(database, CLOCK, to) == []  # a is still in `first`
    assert run_chunk(database, CLOCK, WORKER, first, 0) == "done"
    assert handoff.start_queued(database, CLOCK, to) == [third]
    assert run_chunk(database, CLOCK, WORKER, third, 0) == "done"
    assert handoff.start_queued(database, CLOCK, to) == [fourth]
    assert run_chunk(database, CLOCK, WORKER, fourth, 0) == "done"
    assert sent == [(first, 0), (second, 0), (third, 0), (fourth, 0)]
    assert set(_statuses(database).values()) == {"completed"}
    per_person: dict[int, list[int]] = {}
    for run, person, _ in _moments(database):
        per_person.setdefault(person, []).append(run)
    assert per_person == {
        a: [first, first, third, third],
        b: [second] * 2,
        c: [third] * 2 + [fourth] * 2,
    }


def test_a_requested_run_keeps_the_flow_of_its_request(database: Database, tmp_path: Path) -> None:
    """CMP-15: the flow is pinned when the requested run is enqueued; editing the target
    before the run starts changes nothing for it, and the next request uses the new flow."""
    setup(database, tmp_path, TARGET, "Api Target")
    a = person_ids(database)[0]
    before = _request(database, a)
    edited = TARGET.replace('"second"', '"edited"')
    cli("apply", str(write(tmp_path, "world.yaml", world(edited))), "--db", database.url)
    after = _request(database, a)
    drain(database, FixedClock(T0 + timedelta(minutes=1)))
    assert [(run, text) for run, _, text in _moments(database)] == [
        (before, "first Web Service API"),
        (before, "second"),
        (after, "first Web Service API"),
        (after, "edited"),
    ]
    with database.read() as connection:
        pinned = connection.execute(
            sa.select(schema.run.c.flow_snapshot).where(schema.run.c.id == before)
        ).scalar_one()
    assert pinned is not None and len(pinned) == 2
