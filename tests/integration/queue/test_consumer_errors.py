"""A worker survives unexpected errors: it logs them, backs off and carries on; only
``stop`` (a signal in `kampanj worker`) ends it (DESIGN.md §5, LEDG-4). Both databases."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from kampanj.clock import SystemClock
from kampanj.engine import worker as worker_module
from kampanj.engine.batch import run_batch
from kampanj.engine.handoff import hand_over, resend
from kampanj.queue import consumer as consumer_module
from kampanj.queue.backends import open_queue
from kampanj.queue.consumer import Consumer, new_identity
from kampanj.store import schema
from kampanj.store.database import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from enginesupport import build

WORLD = """\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: Big
        smartList:
          filters:
            - Lead Score: {at least: 1}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+1000"}
"""
DEADLINE_SECONDS = 120.0


def _failing_once(real: Any, failures: list[str], name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if name not in failures:
            failures.append(name)
            raise OperationalError("SELECT 1", {}, Exception(f"{name}: connection lost"))
        return real(*args, **kwargs)

    return call


def test_a_worker_logs_database_errors_and_carries_on(
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    build(
        database.url,
        tmp_path,
        world=WORLD,
        people="email,leadScore\n" + "".join(f"p{n}@x.com,{n}\n" for n in range(1, 31)),
    )
    clock = SystemClock()
    started = run_batch(database, clock, "Big", chunk_size=10, execute_now=False).result
    queue = open_queue(f"sqlite:///{tmp_path / 'queue.db'}", database.url)
    failures: list[str] = []
    # The first chunk message and the first sweep fail as if the database went away.
    monkeypatch.setattr(
        consumer_module, "run_chunk", _failing_once(worker_module.run_chunk, failures, "chunk")
    )
    monkeypatch.setattr(
        consumer_module, "sweep", _failing_once(worker_module.sweep, failures, "sweep")
    )
    consumer = Consumer(
        database=database,
        queue=queue,
        clock=clock,
        worker=new_identity(60),
        interval=0.05,
        poll=0.01,
        backoff=0.01,
    )
    hand_over(database, clock, started.run_id, consumer.enqueue)
    thread = threading.Thread(target=consumer.run)
    with caplog.at_level(logging.ERROR, logger="kampanj.worker"):
        thread.start()
        deadline = time.monotonic() + DEADLINE_SECONDS
        try:
            while _status(database, started.run_id) != "completed":
                assert thread.is_alive(), "the worker stopped on an error"
                assert time.monotonic() < deadline, "timed out waiting for the run"
                time.sleep(0.02)
        finally:
            consumer.stop.set()
            thread.join(timeout=60)
            queue.close()
    assert not thread.is_alive()
    assert sorted(failures) == ["chunk", "sweep"] and consumer.errors == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "kampanj.worker"]
    assert len(logged) == 2 and all("retrying" in m for m in logged)
    with database.read() as connection:
        scores = connection.execute(sa.text("SELECT lead_score FROM person")).scalars().all()
    # The failed chunk message was put back and executed.
    assert sorted(scores) == [n + 1000 for n in range(1, 31)]


def _status(database: Database, run_id: int) -> str:
    with database.read() as connection:
        statement = sa.select(schema.run.c.status).where(schema.run.c.id == run_id)
        return str(connection.execute(statement).scalar_one())


def test_a_message_lost_with_its_worker_is_sent_again_once_the_queue_is_empty(
    database: Database, tmp_path: Path
) -> None:
    """LEDG-4: a worker took a chunk message and died before taking the chunk's lease: the
    chunk's ``sent`` marker covers no message any more. While other messages wait, the sweep
    leaves it (they may be that chunk's); once the queue is empty it sends it again."""
    build(database.url, tmp_path, world=WORLD, people="email,leadScore\na@x.com,1\nb@x.com,2\n")
    clock = SystemClock()
    run_id = run_batch(database, clock, "Big", chunk_size=1, execute_now=False).result.run_id
    queue = open_queue(f"sqlite:///{tmp_path / 'queue.db'}", database.url)
    try:
        worker = new_identity(60)
        handoff = worker.handoff(
            lambda r, c: queue.put({"kind": "chunk", "run": r, "chunk": c}), queue.size
        )
        hand_over(database, clock, run_id, handoff)
        lost = queue.get()  # taken by a worker that died at once
        assert lost == {"kind": "chunk", "run": run_id, "chunk": 0}
        assert resend(database, clock, handoff) == 0  # chunk 1's message still waits
        assert queue.get() == {"kind": "chunk", "run": run_id, "chunk": 1}
        assert worker_module.run_chunk(database, clock, worker, run_id, 1) == "done"
        assert resend(database, clock, handoff) == 1  # the queue is empty: chunk 0 again
        assert resend(database, clock, handoff) == 0  # its message waits on the queue
        assert queue.get() == lost
        assert worker_module.run_chunk(database, clock, worker, run_id, 0) == "done"
        assert _status(database, run_id) == "completed"
    finally:
        queue.close()
