"""REST API benchmark: authenticated Request Campaign calls against `kampanj serve`.

    .venv/bin/python bench/api.py
    .venv/bin/python bench/api.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Builds a database with one requestable trigger campaign (one Change Data Value step,
qualification "every time") and ``--leads`` leads, starts ``kampanj serve`` as a subprocess
on a free 127.0.0.1 port with its in-process worker (the default deployment: the worker
executes the requested runs while the API answers; ``--workers 0`` for the API alone) and
with the API-9 limits raised out of the way, then ``--clients`` threads, each with its own
HTTP session and access token, send ``--calls`` calls of
``POST /rest/v1/campaigns/{id}/trigger.json`` in total, one lead per call (leads
round-robin). Before timing, ``--warmup`` calls are sent and dropped.

Prints one JSON line: calls, clients, seconds, calls/s, latency p50 / p90 / p99 / max in
milliseconds (each call timed by its client, connection reuse included), how many runs the
worker had completed when the last call returned, and ``cpu_loop_s`` / ``cpu_steal_pct``
(``bench/_machine.py``) plus the 1-minute load average before and after. Exits 1 if any
call fails.

Without ``--db`` the database is a SQLite file in a temporary directory; with a PostgreSQL
URL, database ``kampanj_bench_api`` is created on that server and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _machine import StealMeter, cpu_loop_seconds

from kampanj.api.users import Role, create_api_user
from kampanj.clock import SystemClock
from kampanj.services.apply import apply_paths
from kampanj.store.database import Database
from kampanj.store.schema import run

PG_DATABASE = "kampanj_bench_api"
READY_SECONDS = 120.0
WORLD = """\
workspace: Default
folders:
  - name: Bench
    programs:
      - name: Requests
        tokens:
          Note: {type: text, value: default}
        campaigns:
          - name: Register
            active: true
            smartList:
              triggers:
                - Campaign is Requested: {Source: is Web Service API}
            schedule: {qualification: every time}
            flow:
              - Change Data Value: {attribute: Title, newValue: "{{my.Note}}"}
"""


@contextmanager
def database_url(db: str | None) -> Iterator[str]:
    if db is None:
        with tempfile.TemporaryDirectory(prefix="kampanj-bench-api-") as directory:
            yield f"sqlite:///{Path(directory) / 'kampanj.db'}"
        return
    admin = sa.create_engine(db, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{PG_DATABASE}"')
    try:
        yield admin.url.set(database=PG_DATABASE).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        admin.dispose()


def prepare(url: str, clients: int) -> list[tuple[str, str]]:
    """Migrate, apply the campaign, create one API user per client."""
    database = Database(url)
    try:
        database.migrate()
        with tempfile.TemporaryDirectory(prefix="kampanj-bench-api-world-") as directory:
            path = Path(directory) / "world.yaml"
            path.write_text(WORLD, encoding="utf-8")
            apply_paths(database, [path])
        users = []
        with database.begin() as connection:
            for number in range(clients):
                created = create_api_user(
                    connection,
                    name=f"bench-{number}",
                    role=Role.EXECUTE_CAMPAIGN,
                    workspaces=("*",),
                    email=f"bench-{number}@example.com",
                    now=SystemClock().now(),
                )
                users.append((created.user.client_id, created.client_secret))
        return users
    finally:
        database.dispose()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def serve(url: str, workers: int) -> Iterator[str]:
    port = _free_port()
    script = Path(sys.executable).with_name("kampanj")
    fallback = [sys.executable, "-c", "from kampanj.cli.app import main; main()"]
    command = [str(script)] if script.exists() else fallback
    process = subprocess.Popen(
        [
            *command,
            *("serve", "--db", url, "--port", str(port)),
            *("--rate-limit", "100000000", "--max-concurrent", "100000"),
            *("--daily-quota", "100000000", "--workers", str(workers)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"kampanj serve exited: {process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("kampanj serve did not answer in time")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def session(base: str, credentials: tuple[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60.0)
    answer = client.post(
        "/identity/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials[0],
            "client_secret": credentials[1],
        },
    )
    answer.raise_for_status()
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


def create_leads(client: httpx.Client, count: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, count, 300):
        records = [
            {"email": f"lead{n}@bench.example"} for n in range(start, min(count, start + 300))
        ]
        body = client.post("/rest/v1/leads.json", json={"input": records}).json()
        assert body["success"], body
        ids.extend(item["id"] for item in body["result"])
    return ids


def campaign_id(client: httpx.Client) -> int:
    body = client.get("/rest/v1/campaigns.json", params={"name": "Register"}).json()
    return int(body["result"][0]["id"])


def request(client: httpx.Client, campaign: int, lead: int) -> float:
    """One Request Campaign call; its latency in seconds."""
    started = time.perf_counter()
    answer = client.post(
        f"/rest/v1/campaigns/{campaign}/trigger.json",
        json={"input": {"leads": [{"id": lead}], "tokens": [{"name": "my.Note", "value": "x"}]}},
    )
    elapsed = time.perf_counter() - started
    body = answer.json()
    if answer.status_code != 200 or not body.get("success") or body["result"][0]["runId"] is None:
        raise SystemExit(f"call failed: {answer.status_code} {answer.text}")
    return elapsed


def load_clients(
    sessions: list[httpx.Client], campaign: int, leads: list[int], calls: int
) -> tuple[list[float], float]:
    """``calls`` requests spread over the sessions' threads: latencies and wall seconds."""
    latencies: list[list[float]] = [[] for _ in sessions]
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for number in range(index, calls, len(sessions)):
                latencies[index].append(
                    request(sessions[index], campaign, leads[number % len(leads)])
                )
        except BaseException as error:  # reported after the join
            failures.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(sessions))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise failures[0]
    return [x for chunk in latencies for x in chunk], wall


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def completed_runs(url: str) -> int:
    database = Database(url)
    try:
        with database.read() as connection:
            statement = sa.select(sa.func.count()).where(run.c.status == "completed")
            return int(connection.execute(statement).scalar_one())
    finally:
        database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="PostgreSQL server URL (default: a SQLite file)")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument(
        "--workers", type=int, default=1, help="kampanj serve --workers (0 = API only)"
    )
    options = parser.parse_args()
    cpu_loop = cpu_loop_seconds()
    load_before = os.getloadavg()[0]
    with database_url(options.db) as url:
        users = prepare(url, options.clients)
        with serve(url, options.workers) as base:
            sessions = [session(base, credentials) for credentials in users]
            try:
                leads = create_leads(sessions[0], options.leads)
                campaign = campaign_id(sessions[0])
                load_clients(sessions, campaign, leads, options.warmup)
                steal = StealMeter.start()
                latencies, wall = load_clients(sessions, campaign, leads, options.calls)
                steal_pct = steal.percent()
                done = completed_runs(url)
            finally:
                for client in sessions:
                    client.close()
    result: dict[str, Any] = {
        "bench": "api_request_campaign",
        "backend": "postgresql" if options.db else "sqlite",
        "calls": options.calls,
        "clients": options.clients,
        "serve_workers": options.workers,
        "seconds": round(wall, 2),
        "calls_per_s": round(options.calls / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p90_ms": round(1000 * percentile(latencies, 0.90), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "max_ms": round(1000 * max(latencies), 1),
        "runs_completed_by_then": done,
        "runs_requested": options.calls + options.warmup,
        "cpu_loop_s": round(cpu_loop, 2),
        "cpu_steal_pct": steal_pct,
        "load1_before": round(load_before, 2),
        "load1_after": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
