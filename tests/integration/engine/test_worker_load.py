"""Two `kampanj worker` processes drain a mixed load; one is SIGKILLed midway (issue 6,
DESIGN.md §5, ORD-3, ORD-5, GEN-2, LEDG-4, REQ-6/7/9, WAIT-8).

The load: a batch run of every person split into chunks (`run --enqueue`), Visit Webpage
events recorded through `record_event` while the workers run (a trigger campaign whose
flow changes a field, waits one minute, requests a follow-up campaign for a fortieth of its
people — each request is a run of its own — and writes an Interesting Moment), and
requests from outside (`request_campaign`, Web Service API, 100 people each) for others.
The workers' clock is an `OffsetClock`: when everyone left is parked by the Wait, the test
moves the clock to the earliest resume time (no sleeping for time to pass).
Once half of the batch's (step, chunk) markers committed and one worker holds a chunk
lease, that worker is SIGKILLed; the survivor must finish everything. Exactly once is
checked from the activity log: per person, campaign and activity type, one activity.

Full size — 200,000 people, 20,000 events — on PostgreSQL with Redis; every other
combination of ``KAMPANJ_TEST_BACKENDS`` × ``KAMPANJ_TEST_QUEUES`` runs a small load.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from enginesupport import build

from kampanj.clock import CLOCK_OFFSET_ENV, OffsetClock
from kampanj.engine import leases
from kampanj.engine.activation import activate
from kampanj.engine.events import record_event
from kampanj.engine.faults import FAULT_ENV
from kampanj.engine.requests import request_campaign
from kampanj.engine.runs import MemberState
from kampanj.model.activities import StandardActivity
from kampanj.store import schema
from kampanj.store.database import Database
from queuesupport import QUEUES, WORKERS_REDIS_URL, queue_url_for

KAMPANJ = str(Path(sys.executable).parent / "kampanj")
DEADLINE_SECONDS = 900.0  # a hung worker fails the test instead of hanging it
RECORDERS = 4  # threads recording events and requests while the workers run

WORLD = """\
workspace: Default
folders:
  - name: F
    lists:
      - name: Hot
    campaigns:
      - name: Big
        smartList:
          filters:
            - Lead Score: {at least: 1}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+1000"}
          - Interesting Moment: {type: Web, description: "scored"}
          - Add to List: Hot
      - name: Visitors
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Change Data Value: {attribute: Title, newValue: "visited"}
          - Wait: 1 minute
          - Request Campaign:
              campaign: Followup
              choices:
                - {if: {Lead Score: {at least: REQUEST_BELOW}}, doNothing: true}
          - Interesting Moment: {type: Web, description: "visit"}
        schedule: {qualification: every time}
      - name: Followup
        smartList: {triggers: [Campaign is Requested]}
        flow:
          - Interesting Moment: {type: Web, description: "followed up"}
        schedule: {qualification: every time}
"""


@dataclass(frozen=True, kw_only=True)
class Load:
    people: int
    chunk: int
    visitors: list[int]  # one Visit Webpage event each
    request_below: int  # visitors below this id request Followup from their flow
    requested: list[list[int]]  # one request from outside per list (≤ 100 people)


def _load(full: bool) -> Load:
    people, chunk, events, requests = (
        (200_000, 10_000, 20_000, 20) if full else (3_000, 250, 400, 4)
    )
    # Every requested run is a run of its own (REQ-7, REQ-9): the visitors among the first
    # fortieth of the people (500 of them) request Followup from their flow, the others take
    # the choice's Do Nothing.
    step = people // events
    return Load(
        people=people,
        chunk=chunk,
        visitors=[step * n for n in range(1, events + 1)],
        request_below=people // 40,
        # People nobody visits with: one step apart from the visitors.
        requested=[[step * (r * 100 + n) + 1 for n in range(100)] for r in range(requests)],
    )


@pytest.fixture(params=QUEUES)
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with queue_url_for(request.param, tmp_path, WORKERS_REDIS_URL) as url:
        yield url


class TestClock:
    """The test's side of the workers' `OffsetClock`: moves it by replacing the file."""

    __test__ = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0.0
        self._write()
        self.clock = OffsetClock(str(path))

    def _write(self) -> None:
        fresh = self.path.with_suffix(".new")
        fresh.write_text(repr(self.offset), encoding="utf-8")
        os.replace(fresh, self.path)

    def now(self) -> datetime:
        return self.clock.now()

    def move_to(self, instant: datetime) -> None:
        ahead = (instant - self.now()).total_seconds()
        if ahead > 0:
            self.offset += ahead
            self._write()


def _people(database: Database, count: int) -> None:
    """``count`` people with Lead Score 1…count, set-based (ids 1…count)."""
    numbers = (
        "SELECT n FROM generate_series(1, :count) AS n"
        if database.dialect == "postgresql"
        else "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count) "
        "SELECT n FROM s"
    )
    with database.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO person (id, email, lead_score, created_at, updated_at) "
                f"SELECT n, 'p' || n || '@x.com', n, :now, :now FROM ({numbers}) AS numbers"
            ),
            {"count": count, "now": datetime(2026, 1, 1)},
        )


def _kampanj(*args: str) -> Any:
    done = subprocess.run([KAMPANJ, *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _worker(database_url: str, queue_url: str, clock_file: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    env[CLOCK_OFFSET_ENV] = str(clock_file)
    return subprocess.Popen(
        [
            *(KAMPANJ, "worker", "--db", database_url, "--queue", queue_url, "--json"),
            *("--interval", "0.5", "--lease-seconds", "5", "--concurrency", "3"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Recorder:
    """Records the events and outside requests from a few threads, in ascending person
    order overall, while the workers run."""

    def __init__(self, database: Database, clock: TestClock, load: Load) -> None:
        self.database = database
        self.clock = clock
        blocks = [load.visitors[i : i + 100] for i in range(0, len(load.visitors), 100)]
        self.work: list[tuple[str, list[int]]] = [("visit", b) for b in blocks]
        self.work += [("request", people) for people in load.requested]
        self.work.sort(key=lambda item: item[1][0])
        self.failures: list[BaseException] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(RECORDERS)]
        for thread in self._threads:
            thread.start()

    def _next(self) -> tuple[str, list[int]] | None:
        with self._lock:
            return self.work.pop(0) if self.work and not self.failures else None

    def _run(self) -> None:
        try:
            while (item := self._next()) is not None:
                kind, people = item
                if kind == "request":
                    request_campaign(self.database, self.clock.clock, "Followup", people)
                    continue
                for person in people:
                    record_event(
                        self.database,
                        self.clock.clock,
                        "Visit Webpage",
                        person_id=person,
                        offer=False,
                    )
        except BaseException as error:  # reported by the test
            with self._lock:
                self.failures.append(error)

    @property
    def done(self) -> bool:
        return not any(thread.is_alive() for thread in self._threads)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


def _scalar(database: Database, statement: Any, **binds: Any) -> Any:
    with database.read() as connection:
        if isinstance(statement, str):
            return connection.execute(sa.text(statement), binds).scalar()
        return connection.execute(statement).scalar()


def _markers(database: Database, run_id: int) -> int:
    return int(_scalar(database, "SELECT count(*) FROM run_progress WHERE run_id = :r", r=run_id))


def _holds_chunk(database: Database, pid: int) -> bool:
    owners = _scalar(
        database,
        "SELECT count(*) FROM lease WHERE name LIKE 'run:%' AND owner LIKE :o",
        o=f"%:{pid}:%",
    )
    return bool(owners)


def _wake_waiting(database: Database, clock: TestClock) -> None:
    """When nobody is active any more and people are parked, move the clock past the latest
    resume time: the Wait comes due for the workers without anybody sleeping for it."""
    member = schema.run_member
    active = _scalar(
        database,
        sa.select(sa.func.count()).where(member.c.state == MemberState.ACTIVE.value),
    )
    latest = _scalar(
        database,
        sa.select(sa.func.max(member.c.wake_at)).where(member.c.state == MemberState.WAITING.value),
    )
    if active == 0 and latest is not None:
        clock.move_to(latest + timedelta(seconds=1))


def _settled(database: Database, batch_run: int, load: Load, recorder: Recorder) -> bool:
    if not recorder.done or _markers(database, batch_run) < 3 * _chunks(load):
        return False
    unfinished = _scalar(database, "SELECT count(*) FROM run WHERE status IN ('queued', 'running')")
    if unfinished:
        return False
    offered = _scalar(
        database,
        "SELECT count(*) FROM activity WHERE id > coalesce("
        "(SELECT last_activity_id FROM trigger_cursor), 0)",
    )
    return offered == 0


def _chunks(load: Load) -> int:
    return -(-load.people // load.chunk)


def test_two_workers_drain_a_mixed_load_one_killed_midway(
    database: Database, database_url: str, backend: str, queue_url: str, tmp_path: Path
) -> None:
    load = _load(full=backend == "postgresql" and queue_url.startswith("redis"))
    # Lead Score is id + 1000 once the batch ran, and it runs first for everyone (GEN-2).
    world = WORLD.replace("REQUEST_BELOW", str(load.request_below + 1000))
    build(database_url, tmp_path, world=world, people="")
    _people(database, load.people)
    clock = TestClock(tmp_path / "clock-offset")
    started = _kampanj(
        *("run", "Big", "--enqueue", "--chunk-size", str(load.chunk)),
        *("--queue", queue_url, "--db", database_url, "--json"),
    )
    batch_run = started["runId"]
    assert (started["status"], started["qualified"]) == ("running", load.people)
    for name in ("Visitors", "Followup"):
        activate(database, clock.clock, name)

    workers = [_worker(database_url, queue_url, clock.path) for _ in range(2)]
    recorder = Recorder(database, clock, load)
    victim, survivor = workers
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        # Midway: half of the batch's (step, chunk) markers committed and the victim is
        # inside a chunk (it holds the chunk's lease) — or, should it hold none by then, the
        # batch is done (the Waits and requests are still ahead).
        while not (
            _markers(database, batch_run) >= 3 * _chunks(load) // 2
            and _holds_chunk(database, victim.pid)
        ) and _markers(database, batch_run) < 3 * _chunks(load):
            assert victim.poll() is None, victim.communicate()[1]
            assert time.monotonic() < deadline, "timed out waiting for the batch to get halfway"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=60) == -signal.SIGKILL
        while not _settled(database, batch_run, load, recorder):
            assert survivor.poll() is None, survivor.communicate()[1]
            assert not recorder.failures, recorder.failures
            assert time.monotonic() < deadline, "timed out waiting for every run to complete"
            _wake_waiting(database, clock)
            time.sleep(0.2)
    finally:
        recorder.join()
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=120) for worker in workers]
    assert not recorder.failures, recorder.failures
    assert survivor.returncode == 0, outputs[1][1]
    _check_exactly_once(database, batch_run, load, victim.pid)


def _check_exactly_once(database: Database, batch_run: int, load: Load, victim: int) -> None:
    visitors = set(load.visitors)
    asking = {p for p in visitors if p < load.request_below}
    requested = {p for people in load.requested for p in people}
    assert not visitors & requested
    with database.read() as connection:
        activity = schema.activity
        per_key = connection.execute(
            sa.select(
                activity.c.person_id,
                activity.c.campaign_id,
                activity.c.activity_type_id,
                sa.func.count(),
            )
            .where(activity.c.campaign_id.is_not(None))
            .group_by(activity.c.person_id, activity.c.campaign_id, activity.c.activity_type_id)
        ).all()
        names = dict(
            connection.execute(sa.select(schema.campaign.c.id, schema.campaign.c.name)).all()
        )
        scores = connection.execute(
            sa.text("SELECT count(*) FROM person WHERE lead_score = id + 1000")
        ).scalar_one()
        titled = set(
            connection.execute(sa.text("SELECT id FROM person WHERE title = 'visited'")).scalars()
        )
        listed = connection.execute(sa.select(sa.func.count()).select_from(schema.list_member))
        steps = {
            row.call_path: row.executed
            for row in connection.execute(
                sa.select(schema.run_step).where(schema.run_step.c.run_id == batch_run)
            )
        }
        statuses = dict(
            connection.execute(
                sa.select(schema.run.c.status, sa.func.count()).group_by(schema.run.c.status)
            ).all()
        )
        left = connection.execute(
            sa.select(sa.func.count()).where(schema.run_member.c.state.in_(("active", "waiting")))
        ).scalar_one()
        owners = connection.execute(sa.select(schema.lease.c.owner)).scalars().all()
        assert listed.scalar_one() == load.people
    assert set(statuses) == {"completed"} and left == 0, statuses
    # Only the killed worker may leave (expired) leases behind, and a message it took from
    # the queue just before dying may leave its chunk's "sent" marker (it expires).
    assert [o for o in owners if o != leases.SENT and o.split(":")[1] != str(victim)] == []
    assert {row[3] for row in per_key} == {1}, "some activity was written twice"
    kinds: dict[tuple[str, int], set[int]] = {}
    for person, campaign, type_id, _ in per_key:
        kinds.setdefault((names[campaign], type_id), set()).add(person)
    everyone = set(range(1, load.people + 1))
    moment = int(StandardActivity.INTERESTING_MOMENT)
    assert kinds == {
        ("Big", int(StandardActivity.CHANGE_SCORE)): everyone,
        ("Big", moment): everyone,
        ("Big", int(StandardActivity.ADD_TO_LIST)): everyone,
        ("Visitors", int(StandardActivity.CHANGE_DATA_VALUE)): visitors,
        ("Visitors", int(StandardActivity.REQUEST_CAMPAIGN)): asking,
        ("Visitors", moment): visitors,
        ("Followup", moment): asking | requested,
    }
    assert scores == load.people and titled == visitors
    assert steps == {"s1": load.people, "s2": load.people, "s3": load.people}
