"""Work queues and in-process workers for tests (``tests/`` is on ``sys.path`` via conftest).

Queue kinds come from ``KAMPANJ_TEST_QUEUES`` (default ``sqlite``; CI adds ``redis``); a
requested Redis that cannot be reached fails the test. The notification tests use Redis
database 14 (``KAMPANJ_TEST_NOTIFY_REDIS_URL``), the worker tests 15
(``KAMPANJ_TEST_REDIS_URL``, `WORKERS_REDIS_URL`), so a concurrent run of the one (which
flush their database) cannot take the other's messages.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from kampanj.clock import Clock
from kampanj.queue.backends import WorkQueue
from kampanj.queue.consumer import Consumer, new_identity
from kampanj.store import schema
from kampanj.store.database import Database

QUEUES = [q.strip() for q in os.environ.get("KAMPANJ_TEST_QUEUES", "sqlite").split(",") if q]
REDIS_URL = os.environ.get("KAMPANJ_TEST_NOTIFY_REDIS_URL", "redis://127.0.0.1:6379/14")
WORKERS_REDIS_URL = os.environ.get("KAMPANJ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LONG_INTERVAL = 3600.0
"""A sweep interval no test waits out: after the first sweep, only messages start work."""


@contextmanager
def queue_url_for(kind: str, tmp_path: Path, redis_url: str = REDIS_URL) -> Iterator[str]:
    """An empty queue of ``kind`` (``sqlite`` or ``redis`` at ``redis_url``, whose database
    is flushed), emptied again afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
        return
    if kind != "redis":
        pytest.fail(f"unknown KAMPANJ_TEST_QUEUES entry {kind!r}")
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"KAMPANJ_TEST_QUEUES asks for redis but {redis_url} is unreachable: {error}")
    client.flushdb()
    try:
        yield redis_url
    finally:
        client.flushdb()
        client.close()


def wait_until(done: Callable[[], bool], what: str, seconds: float = 60.0) -> float:
    """Poll ``done`` until it holds; fail after ``seconds``. The seconds it took."""
    start = time.monotonic()
    while not done():
        assert time.monotonic() - start < seconds, f"timed out waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - start


@contextmanager
def running_worker(database: Database, queue: WorkQueue, clock: Clock) -> Iterator[Consumer]:
    """A consumer thread whose sweep runs once at start, then not for an hour; yields it
    once that first sweep is over."""
    swept = threading.Event()
    consumer = Consumer(
        database=database,
        queue=queue,
        clock=clock,
        worker=new_identity(60),
        interval=LONG_INTERVAL,
        poll=0.01,
        on_tick=lambda _report: swept.set(),
    )
    thread = threading.Thread(target=consumer.run, name="test-worker")
    thread.start()
    try:
        wait_until(swept.is_set, "the worker's first sweep")
        yield consumer
    finally:
        consumer.stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive(), "the worker did not stop"


def run_status(database: Database, run_id: int) -> str:
    with database.read() as connection:
        statement = sa.select(schema.run.c.status).where(schema.run.c.id == run_id)
        return str(connection.execute(statement).scalar_one())
