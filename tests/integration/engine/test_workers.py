"""`kampanj worker` processes share a batch run's chunks; one is SIGKILLed midway
(DESIGN.md §5, ORD-5, GEN-2, LEDG-4).

A worker armed with a fault point dies inside a chunk's step transaction, holding that
chunk's lease and having consumed its queue message. Two fresh workers then drain the
queue; once the dead worker's lease expires, their sweep re-sends the unfinished chunk and
one of them finishes it. Every person is processed exactly once: checked from the
activity log, the score field and the list. Queue backends come from
``KAMPANJ_TEST_QUEUES`` (default ``sqlite``; CI adds ``redis``); a requested server that
cannot be reached fails the test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from enginesupport import build, cli

from kampanj.clock import SystemClock
from kampanj.engine.activation import activate
from kampanj.engine.events import record_event
from kampanj.engine.faults import FAULT_ENV
from kampanj.queue.backends import open_queue
from kampanj.store import schema
from kampanj.store.database import Database
from queuesupport import QUEUES, WORKERS_REDIS_URL, queue_url_for

PEOPLE = 3_000
CHUNK = 200  # 15 chunks
KILLED_CHUNK = 3
EVENTS = 400  # half recorded before the workers start, half while they run
DEADLINE_SECONDS = 600.0  # a hung worker fails the test instead of hanging it
KAMPANJ = str(Path(sys.executable).parent / "kampanj")

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
          - Interesting Moment: {type: Web, description: "scored {{lead.Lead Score}}"}
          - Add to List: Hot
      - name: Visitors
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Change Data Value: {attribute: Title, newValue: "visited"}
          - Interesting Moment: {type: Web, description: "visit"}
        schedule: {qualification: every time}
"""


def _people() -> str:
    return "email,leadScore\n" + "".join(f"p{n}@x.com,{n}\n" for n in range(1, PEOPLE + 1))


@pytest.fixture(params=QUEUES)
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with queue_url_for(request.param, tmp_path, WORKERS_REDIS_URL) as url:
        yield url


def _kampanj(*args: str) -> Any:
    done = subprocess.run([KAMPANJ, *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _worker(database_url: str, queue_url: str, fault: str | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    if fault is not None:
        env[FAULT_ENV] = fault
    return subprocess.Popen(
        [
            *(KAMPANJ, "worker", "--db", database_url, "--queue", queue_url),
            *("--interval", "0.5", "--lease-seconds", "2", "--concurrency", "2"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _status(database: Database, run_id: int) -> str:
    with database.read() as connection:
        statement = sa.select(schema.run.c.status).where(schema.run.c.id == run_id)
        return str(connection.execute(statement).scalar_one())


def _visit(database: Database, numbers: range) -> None:
    """Web visits by persons ``numbers``, left for the workers' dispatch (ORD-5)."""
    for n in numbers:
        record_event(database, SystemClock(), "Visit Webpage", person_id=n, offer=False)


def _settled(database: Database, run_id: int) -> bool:
    """The batch run completed, no run is left queued or running and every visitor's
    trigger flow has run (several visits may share one micro-batched run, ORD-5)."""
    if _status(database, run_id) != "completed":
        return False
    with database.read() as connection:
        unfinished = connection.execute(
            sa.select(sa.func.count())
            .select_from(schema.run)
            .where(schema.run.c.status.in_(("queued", "running")))
        ).scalar_one()
        visited = connection.execute(
            sa.text("SELECT count(*) FROM person WHERE title = 'visited'")
        ).scalar_one()
    return unfinished == 0 and visited == EVENTS


def _wait_until(condition: Any, what: str) -> None:
    """Poll the ledger (or a process) until ``condition()`` holds; fail at the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_two_workers_finish_a_chunked_run_after_one_is_killed(
    database: Database, database_url: str, queue_url: str, tmp_path: Path
) -> None:
    build(database_url, tmp_path, world=WORLD, people=_people())
    started = _kampanj(
        *("run", "Big", "--enqueue", "--chunk-size", str(CHUNK)),
        *("--queue", queue_url, "--db", database_url, "--json"),
    )
    run_id = started["runId"]
    assert started["status"] == "running" and started["qualified"] == PEOPLE
    activate(database, SystemClock(), "Visitors")
    _visit(database, range(1, EVENTS // 2 + 1))

    # Alone, the armed worker takes chunks in queue order and dies inside chunk 3's s2.
    doomed = _worker(database_url, queue_url, fault=f"before-commit:s2:chunk:{KILLED_CHUNK}")
    _wait_until(lambda: doomed.poll() is not None, "the armed worker to die")
    assert doomed.returncode == -signal.SIGKILL, doomed.communicate()[1]
    assert _status(database, run_id) == "running"

    workers = [_worker(database_url, queue_url) for _ in range(2)]
    try:
        _visit(database, range(EVENTS // 2 + 1, EVENTS + 1))
        _wait_until(lambda: _settled(database, run_id), "every run to complete")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]

    with database.read() as connection:
        activity = schema.activity
        per_person = connection.execute(
            sa.select(
                activity.c.person_id,
                activity.c.campaign_id,
                activity.c.activity_type_id,
                sa.func.count(),
            )
            .where(activity.c.campaign_id.is_not(None))
            .group_by(activity.c.person_id, activity.c.campaign_id, activity.c.activity_type_id)
        ).all()
        scores = dict(connection.execute(sa.text("SELECT id, lead_score FROM person")).all())
        listed = connection.execute(sa.select(sa.func.count()).select_from(schema.list_member))
        steps = {
            row.call_path: row.executed
            for row in connection.execute(
                sa.select(schema.run_step).where(schema.run_step.c.run_id == run_id)
            )
        }
        # The killed worker may leave leases behind (e.g. of a chunk it had finished but not
        # yet released, with --concurrency 2); the live workers release every lease they took.
        owners = connection.execute(sa.select(schema.lease.c.owner)).scalars().all()
        assert [o for o in owners if o.split(":")[-2] != str(doomed.pid)] == []
        assert listed.scalar_one() == PEOPLE
    # Every person: each batch flow activity exactly once (Change Score, Interesting
    # Moment, Added to List), the score changed once; each visitor's trigger flow
    # (Data Value Change, Interesting Moment) exactly once.
    assert {row[3] for row in per_person} == {1}
    assert len(per_person) == 3 * PEOPLE + 2 * EVENTS
    assert len({row[0] for row in per_person}) == PEOPLE
    assert sorted(scores.values()) == [n + 1000 for n in range(1, PEOPLE + 1)]
    assert steps == {"s1": PEOPLE, "s2": PEOPLE, "s3": PEOPLE}


def test_an_enqueued_run_nobody_qualifies_for_completes_at_once(
    database_url: str, tmp_path: Path
) -> None:
    """`run --enqueue` sends one message per chunk; with no cohort it sends none and the
    run is completed without a worker (GEN-6)."""
    build(database_url, tmp_path, world=WORLD, people="email,leadScore\nz@x.com,0\n")
    queue = f"sqlite:///{tmp_path / 'queue.db'}"
    result = json.loads(
        cli(*("run", "Big", "--enqueue", "--queue", queue, "--db", database_url, "--json")).stdout
    )
    assert (result["status"], result["qualified"]) == ("completed", 0)
    assert open_queue(queue, database_url).size() == 0
