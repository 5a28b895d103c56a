"""`kampanj serve` as a real process: authenticate and upsert a lead over plain HTTP (API-1..5);
with its in-process worker, API writes that fire triggers wake it (CMP-14, API-37)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import sqlalchemy as sa
from apisupport import ATTENDANCE, WORLD
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.cli.serve import Ticker
from kampanj.clock import SystemClock
from kampanj.services.apply import apply_paths
from kampanj.store import schema
from kampanj.store.database import Database
from queuesupport import run_status, wait_until
from testsupport import free_port, kampanj_command

runner = CliRunner()
READY_WITHIN_SECONDS = 120.0  # a loaded shared machine starts Python slowly


@contextmanager
def serving(database_url: str, tmp_path: Path, *options: str) -> Iterator[str]:
    """A running `kampanj serve` with ``options``; yields its base URL once /openapi.json
    answers."""
    port = free_port()
    output = (tmp_path / "serve.log").open("w+b")  # a file never fills up like a pipe
    process = subprocess.Popen(
        [
            *kampanj_command(),
            "serve",
            "--db",
            database_url,
            "--port",
            str(port),
            "--json",
            *options,
        ],
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    try:
        while True:  # readiness by polling, not by a fixed sleep
            if process.poll() is not None:
                output.seek(0)
                pytest.fail(f"kampanj serve exited: {output.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "kampanj serve did not become ready"
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        output.close()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A running `kampanj serve` (API only)."""
    with serving(database_url, tmp_path, "--workers", "0") as base:
        yield base


def _token(client: httpx.Client, database_url: str, role: str) -> str:
    created = runner.invoke(
        app,
        [
            *("api-user", "create", "svc", "--role", role, "--workspace", "*"),
            *("--db", database_url, "--json"),
        ],
    )
    assert created.exit_code == 0, created.output
    credentials = json.loads(created.stdout)
    answer = client.post(
        "/identity/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials["clientId"],
            "client_secret": credentials["clientSecret"],
        },
    )
    token: str = answer.json()["access_token"]
    return token


def test_serve_authenticates_and_upserts(database_url: str, server: str) -> None:
    with httpx.Client(base_url=server, timeout=10.0) as client:
        token = _token(client, database_url, "read_write")
        headers = {"Authorization": f"Bearer {token}"}
        upsert = client.post(
            "/rest/v1/leads.json",
            json={"input": [{"email": "ann@example.com", "firstName": "Ann"}]},
            headers=headers,
        ).json()
        assert upsert["success"] is True
        assert upsert["result"][0]["status"] == "created"
        found = client.get(
            "/rest/v1/leads.json",
            params={"filterType": "email", "filterValues": "ann@example.com"},
            headers=headers,
        ).json()
        assert found["result"][0]["firstName"] == "Ann"
        spec = client.get("/openapi.json").json()
        assert "/rest/v1/leads.json" in spec["paths"]


def test_in_process_ticker_survives_a_failing_tick() -> None:
    """`kampanj serve --workers 1`: ticks repeat after a failure and stop when asked (GEN-4)."""
    calls: list[object] = []
    second_call = threading.Event()

    def fake_tick(database: object, clock: object) -> None:
        calls.append(clock)
        if len(calls) == 1:
            raise RuntimeError("first tick fails")
        second_call.set()

    ticker = Ticker(fake_tick, cast(Database, None), interval=0.001)
    ticker.start()
    try:
        assert second_call.wait(timeout=30)
    finally:
        ticker.stopped.set()
        ticker.join(timeout=30)
    assert not ticker.is_alive()
    assert len(calls) >= 2


def test_in_process_worker_is_woken_by_api_writes(database: Database, tmp_path: Path) -> None:
    """`kampanj serve --workers 1 --tick-seconds 3600`: the run an external activity fires
    and a trigger.json request complete long before the first tick — the API write woke
    the worker thread (CMP-14, API-17, API-37, REQ-7)."""
    world = tmp_path / "world.yaml"
    world.write_text(WORLD + ATTENDANCE, encoding="utf-8")
    apply_paths(database, [world], clock=SystemClock())
    options = ("--workers", "1", "--tick-seconds", "3600")
    with (
        serving(database.url, tmp_path, *options) as base,
        httpx.Client(base_url=base, timeout=30.0) as client,
    ):
        headers = {"Authorization": f"Bearer {_token(client, database.url, 'execute_campaign')}"}

        def post(path: str, body: Any) -> Any:
            answer = client.post(path, json=body, headers=headers)
            assert answer.status_code == 200 and answer.json()["success"], answer.text
            return answer.json()["result"]

        people = post(
            "/rest/v1/leads.json", {"input": [{"email": "a@x.com"}, {"email": "b@x.com"}]}
        )
        a, b = (p["id"] for p in people)
        external = {
            "leadId": a,
            "activityDate": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "activityTypeId": 100001,
            "primaryAttributeValue": "Summit",
        }
        assert post("/rest/v1/activities/external.json", {"input": [external]}) == [
            {"status": "added"}
        ]
        attendance = sa.select(schema.run.c.id).join(
            schema.campaign, schema.campaign.c.id == schema.run.c.campaign_id
        )
        with database.read() as connection:
            fired = connection.execute(
                attendance.where(schema.campaign.c.name == "Attendance")
            ).scalar_one()
        wait_until(lambda: run_status(database, fired) == "completed", "the activity's run")
        register = _campaign_id(database, "Register")
        (requested,) = post(
            f"/rest/v1/campaigns/{register}/trigger.json", {"input": {"leads": [{"id": b}]}}
        )
        wait_until(
            lambda: run_status(database, requested["runId"]) == "completed", "the requested run"
        )
    with database.read() as connection:
        cities = connection.execute(sa.select(schema.person.c.id, schema.person.c.city))
        assert dict(cities.tuples().all())[a] == "Attended"


def _campaign_id(database: Database, name: str) -> int:
    with database.read() as connection:
        statement = sa.select(schema.campaign.c.id).where(schema.campaign.c.name == name)
        return int(connection.execute(statement).scalar_one())


def test_ticker_drains_when_woken_and_stops_at_once() -> None:
    """A wake (`LocalNotifier`, after an API write) runs the queued trigger runs without
    waiting for the tick; stop() ends the thread however long the interval."""
    drained = threading.Event()
    ticks: list[object] = []
    ticker = Ticker(
        lambda _database, clock: ticks.append(clock),
        cast(Database, None),
        interval=3600,
        drain=lambda _database, _clock: drained.set(),
    )
    ticker.start()
    try:
        ticker.woken.set()
        assert drained.wait(timeout=30)
    finally:
        ticker.stop()
        ticker.join(timeout=30)
    assert not ticker.is_alive()
    assert ticks == []
