"""`kampanj serve` as a real process: authenticate and upsert a lead over plain HTTP (API-1..5)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.cli.serve import Ticker
from kampanj.store.database import Database
from testsupport import free_port, kampanj_command

runner = CliRunner()
READY_WITHIN_SECONDS = 120.0  # a loaded shared machine starts Python slowly


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A running `kampanj serve` (API only); yields its base URL once /openapi.json answers."""
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
            *("--workers", "0"),
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


def test_serve_authenticates_and_upserts(database_url: str, server: str) -> None:
    created = runner.invoke(
        app,
        [
            *("api-user", "create", "svc", "--role", "read_write", "--workspace", "*"),
            *("--db", database_url, "--json"),
        ],
    )
    assert created.exit_code == 0, created.output
    credentials = json.loads(created.stdout)
    with httpx.Client(base_url=server, timeout=10.0) as client:
        token = client.post(
            "/identity/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials["clientId"],
                "client_secret": credentials["clientSecret"],
            },
        ).json()["access_token"]
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
