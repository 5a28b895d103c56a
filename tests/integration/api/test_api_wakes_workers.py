"""The REST API beside separate workers (`kampanj serve --workers 0`): an external activity
that fires a trigger and a trigger.json request are run by a worker whose next sweep is an
hour away — the API put a dispatch message on the queue (DESIGN.md §5, API-17, API-37,
CMP-14, REQ-7). Both databases; queues from ``KAMPANJ_TEST_QUEUES``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from apisupport import ATTENDANCE, START, WORLD, Api
from fastapi.testclient import TestClient

from kampanj.api import create_app
from kampanj.clock import FixedClock
from kampanj.queue.backends import open_queue
from kampanj.queue.notify import Notifier
from kampanj.services.apply import apply_paths
from kampanj.store import schema
from kampanj.store.database import Database
from queuesupport import QUEUES, queue_url_for, run_status, running_worker, wait_until


@pytest.fixture(params=QUEUES)
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with queue_url_for(request.param, tmp_path) as url:
        yield url


def test_api_writes_wake_a_worker_before_any_sweep(
    database: Database, tmp_path: Path, queue_url: str
) -> None:
    clock = FixedClock(START)
    world = tmp_path / "world.yaml"
    world.write_text(WORLD + ATTENDANCE, encoding="utf-8")
    apply_paths(database, [world], clock=clock)
    queue = open_queue(queue_url, database.url)
    notifier = Notifier.over(queue)
    app = create_app(database, clock, notifier=notifier)
    try:
        with TestClient(app) as client, running_worker(database, queue, clock) as worker:
            api = Api(database, clock, client)
            people = api.post(
                "/rest/v1/leads.json", {"input": [{"email": "a@x.com"}, {"email": "b@x.com"}]}
            )["result"]
            a, b = (p["id"] for p in people)
            external = {
                "leadId": a,
                "activityDate": "2026-03-02T08:00:00Z",
                "activityTypeId": 100001,
                "primaryAttributeValue": "Summit",
            }
            body = api.post("/rest/v1/activities/external.json", {"input": [external]})
            assert body["result"] == [{"status": "added"}]
            city = sa.select(schema.person.c.city).where(schema.person.c.id == a)
            wait_until(lambda: _scalar(database, city) == "Attended", "the activity's run")

            register = api.ids("campaign")["Register"]
            body = api.post(
                f"/rest/v1/campaigns/{register}/trigger.json", {"input": {"leads": [{"id": b}]}}
            )
            run_id = body["result"][0]["runId"]
            wait_until(lambda: run_status(database, run_id) == "completed", "the requested run")
            assert worker.ticks == 1  # the sweep at start only
    finally:
        notifier.close()
        queue.close()


def _scalar(database: Database, statement: sa.Select[tuple[str | None]]) -> str | None:
    with database.read() as connection:
        return connection.execute(statement).scalar()
