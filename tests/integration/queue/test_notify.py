"""Events wake the workers: a ``dispatch`` message after `kampanj event`, `kampanj request`,
`kampanj people import` and the Python API, coalesced, best effort (DESIGN.md §5, CMP-14,
REQ-7, LEDG-4).

Each worker here sweeps once when it starts and then not for an hour, so a run that
completes within the deadline was started by a message, not by a sweep. Both databases;
queues from ``KAMPANJ_TEST_QUEUES``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from kampanj.clock import SystemClock
from kampanj.engine import handoff
from kampanj.engine.activation import activate
from kampanj.engine.events import record_event
from kampanj.engine.triggers import DispatchReport
from kampanj.queue import notify
from kampanj.queue.backends import open_queue
from kampanj.queue.consumer import Consumer, new_identity
from kampanj.queue.notify import Notifier
from kampanj.store import schema
from kampanj.store.database import Database
from queuesupport import QUEUES, queue_url_for, run_status, running_worker, wait_until
from testsupport import free_port, kampanj_command

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from enginesupport import build

WORLD = """\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: Visitors
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Change Data Value: {attribute: Title, newValue: visited}
        schedule: {qualification: every time}
      - name: Requested
        smartList: {triggers: [Campaign is Requested]}
        flow:
          - Change Data Value: {attribute: City, newValue: requested}
        schedule: {qualification: every time}
      - name: Newcomers
        smartList: {triggers: [Person is Created]}
        flow:
          - Change Data Value: {attribute: Title, newValue: newcomer}
"""
PEOPLE = "email\n" + "".join(f"p{n}@x.com\n" for n in range(1, 41))


@pytest.fixture(params=QUEUES)
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with queue_url_for(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Database:
    build(database.url, tmp_path, world=WORLD, people=PEOPLE)
    for name in ("Visitors", "Requested"):
        activate(database, SystemClock(), name)
    return database


def _kampanj(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*kampanj_command(), *args], capture_output=True, text=True, timeout=300, check=False
    )


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _scalar(database: Database, statement: Any) -> Any:
    with database.read() as connection:
        return connection.execute(statement).scalar()


def _marker(database: Database) -> Any:
    return _scalar(
        database, sa.select(schema.lease.c.owner).where(schema.lease.c.name == "dispatch:sent")
    )


def test_kampanj_event_and_request_wake_a_worker_before_any_sweep(
    world: Database, queue_url: str
) -> None:
    """CMP-14, REQ-7: the runs an event fires and a request enqueues are completed by a worker
    whose next sweep is an hour away."""
    database = world
    queue = open_queue(queue_url, database.url)
    try:
        with running_worker(database, queue, SystemClock()) as worker:
            fired = _json(
                _kampanj(
                    *("event", "Visit Webpage", "--person", "1", "--attr", "Webpage URL=/x"),
                    *("--queue", queue_url, "--db", database.url, "--json"),
                )
            )
            (visit,) = fired["runs"]
            wait_until(lambda: run_status(database, visit["runId"]) == "completed", "the event")
            requested = _json(
                _kampanj(
                    *("request", "Requested", "--person", "2", "--person", "3"),
                    *("--queue", queue_url, "--db", database.url, "--json"),
                )
            )
            wait_until(
                lambda: run_status(database, requested["runId"]) == "completed", "the request"
            )
            assert worker.ticks == 1  # the sweep at start only
        assert _marker(database) is None  # the consumer took each message's marker
    finally:
        queue.close()
    assert _scalar(database, sa.text("SELECT title FROM person WHERE id = 1")) == "visited"
    assert _scalar(database, sa.text("SELECT count(*) FROM person WHERE city = 'requested'")) == 2


def test_people_import_wakes_a_worker_before_any_sweep(
    world: Database, queue_url: str, tmp_path: Path
) -> None:
    """ACT-6, CMP-14: `kampanj people import` offers the Person Created activities it wrote
    and wakes the workers; a worker whose next sweep is an hour away runs what they fired.
    An import that fired nothing sends nothing."""
    database = world
    activate(database, SystemClock(), "Newcomers")
    queue = open_queue(queue_url, database.url)
    newcomers = sa.text("SELECT count(*) FROM person WHERE title = 'newcomer'")
    try:
        known = tmp_path / "known.csv"
        known.write_text("email,city\np1@x.com,Oslo\n", encoding="utf-8")
        updated = _kampanj(
            "people", "import", str(known), "--queue", queue_url, "--db", database.url, "--json"
        )
        assert _json(updated)["updated"] == 1
        assert queue.size() == 0 and _marker(database) is None  # an update fired nothing
        with running_worker(database, queue, SystemClock()) as worker:
            new = tmp_path / "new.csv"
            new.write_text("email\nnew1@x.com\nnew2@x.com\n", encoding="utf-8")
            imported = _json(
                _kampanj(
                    *("people", "import", str(new)),
                    *("--queue", queue_url, "--db", database.url, "--json"),
                )
            )
            assert imported["created"] == 2
            wait_until(lambda: _scalar(database, newcomers) == 2, "the newcomers' trigger runs")
            assert worker.ticks == 1  # the sweep at start only
    finally:
        queue.close()


def test_the_python_api_wakes_a_worker_for_activities_left_to_it(
    world: Database, queue_url: str
) -> None:
    """ORD-5: events recorded without offering them (the worker dispatches) and one
    notification afterwards: the worker offers them and runs what they fire."""
    database, clock = world, SystemClock()
    queue = open_queue(queue_url, database.url)
    notifier = Notifier.over(queue)
    try:
        with running_worker(database, queue, clock) as worker:
            for person in range(1, 6):
                record_event(database, clock, "Visit Webpage", person_id=person, offer=False)
            assert notifier.wake(database, clock)
            visited = sa.text("SELECT count(*) FROM person WHERE title = 'visited'")
            wait_until(lambda: _scalar(database, visited) == 5, "the visits' trigger runs")
            assert worker.ticks == 1
    finally:
        notifier.close()
        queue.close()


def test_many_events_leave_one_dispatch_message(world: Database, queue_url: str) -> None:
    """Coalescing: whatever the number of events and writers, one dispatch message waits;
    once a worker took it, the next event sends one again."""
    database, clock = world, SystemClock()
    queue = open_queue(queue_url, database.url)
    notifier = Notifier.over(queue)
    try:

        def visits(first: int) -> None:
            for person in range(first, first + 5):
                record_event(database, clock, "Visit Webpage", person_id=person, offer=False)
                notifier.wake(database, clock)

        writers = [threading.Thread(target=visits, args=(1 + 5 * n,)) for n in range(8)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert queue.size() == 1
        assert _marker(database) == "sent"

        with running_worker(database, queue, clock) as worker:
            visited = sa.text("SELECT count(*) FROM person WHERE title = 'visited'")
            wait_until(lambda: _scalar(database, visited) == 40, "the 40 visits' trigger runs")
            wait_until(lambda: queue.size() == 0, "the queue to drain")
            assert worker.ticks == 1
        assert _marker(database) is None
        record_event(database, clock, "Visit Webpage", person_id=1, offer=False)
        assert notifier.wake(database, clock) and queue.size() == 1
    finally:
        notifier.close()
        queue.close()


def test_nothing_to_start_sends_nothing(world: Database, tmp_path: Path) -> None:
    """An event no trigger listens to, once offered, leaves the workers nothing to do."""
    database, clock = world, SystemClock()
    queue = open_queue(f"sqlite:///{tmp_path / 'quiet.db'}", database.url)
    notifier = Notifier.over(queue)
    try:
        recorded = record_event(database, clock, "Fill Out Form", person_id=1)
        assert recorded.enqueued == ()
        assert not notifier.wake(database, clock)
        assert queue.size() == 0 and _marker(database) is None
    finally:
        notifier.close()
        queue.close()


def test_an_unreachable_queue_does_not_fail_the_event(world: Database) -> None:
    """LEDG-4: the event is recorded and its run queued; the failure is logged on stderr and
    leaves no marker, so the next event tries again (the sweep starts the run meanwhile)."""
    database = world
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    done = _kampanj(
        *("event", "Visit Webpage", "--person", "4", "--attr", "Webpage URL=/y"),
        *("--queue", nowhere, "--db", database.url, "--json"),
    )
    recorded = _json(done)
    assert "could not put a dispatch message" in done.stderr
    (run,) = recorded["runs"]
    assert run_status(database, run["runId"]) == "queued"
    assert _marker(database) is None
    statement = sa.select(sa.func.count()).select_from(schema.activity)
    assert _scalar(database, statement.where(schema.activity.c.id == recorded["activityId"])) == 1


def test_a_queue_url_that_cannot_be_opened_does_not_fail_the_event(world: Database) -> None:
    database = world
    done = _kampanj(
        *("event", "Visit Webpage", "--person", "5"),
        *("--queue", "nosuch://queue", "--db", database.url, "--json"),
    )
    recorded = _json(done)
    assert "nosuch://queue" in done.stderr
    assert run_status(database, recorded["runs"][0]["runId"]) == "queued"
    assert notify.MARKER == "dispatch:sent" and _marker(database) is None


def test_a_dispatch_that_missed_its_events_sends_the_message_again(
    world: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatch that left the activities recorded before its message unoffered (on
    PostgreSQL: the horizon lock timed out) puts the message back, so they still do not wait
    for the sweep; one that offered them sends the fired run's chunk and nothing else."""
    database, clock = world, SystemClock()
    queue = open_queue(f"sqlite:///{tmp_path / 'retry.db'}", database.url)
    notifier = Notifier.over(queue)
    consumer = Consumer(
        database=database, queue=queue, clock=clock, worker=new_identity(60), interval=3600
    )
    try:
        record_event(database, clock, "Visit Webpage", person_id=1, offer=False)
        assert notifier.wake(database, clock)
        with monkeypatch.context() as patched:
            patched.setattr(handoff.triggers, "dispatch", lambda *_args, **_kw: DispatchReport())
            consumer.handle(queue.get() or {})
        assert queue.size() == 1 and _marker(database) == "sent"
        visit = sa.select(schema.run.c.id).where(schema.run.c.kind == "trigger")
        consumer.handle(queue.get() or {})
        assert [queue.get(), queue.get()] == [
            {"kind": "chunk", "run": _scalar(database, visit), "chunk": 0},
            None,
        ]
        assert _marker(database) is None
        assert run_status(database, _scalar(database, visit)) == "running"  # sent to workers
        assert consumer.ticks == 0  # a dispatch message is not a sweep
    finally:
        notifier.close()
        queue.close()
