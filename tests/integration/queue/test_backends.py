"""Work queues by URL: FIFO messages of ids on SQLite, Redis and PostgreSQL (DESIGN.md §5).

Redis runs when ``KAMPANJ_TEST_QUEUES`` lists it (CI does); unreachable, it fails.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kampanj.errors import UserError
from kampanj.queue.backends import default_url, open_queue

QUEUES = [q.strip() for q in os.environ.get("KAMPANJ_TEST_QUEUES", "sqlite").split(",") if q]
REDIS_URL = os.environ.get("KAMPANJ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _roundtrip(url: str, database_url: str) -> None:
    queue = open_queue(url, database_url)
    try:
        queue.storage.flush_queue()
        messages = [{"kind": "chunk", "run": 7, "chunk": n} for n in range(5)]
        for message in messages:
            queue.put(message)
        queue.put({"kind": "tick"})
        assert queue.size() == 6
        taken = [queue.get() for _ in range(6)]
        assert taken == [*messages, {"kind": "tick"}]  # FIFO
        assert queue.get() is None
    finally:
        queue.close()


def test_the_database_backend_carries_messages_in_order(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    """SQLite file queue for SQLite; the PostgreSQL storage (SKIP LOCKED) for PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'q.db'}" if backend == "sqlite" else database_url
    _roundtrip(url, database_url)


@pytest.mark.skipif("redis" not in QUEUES, reason="KAMPANJ_TEST_QUEUES does not list redis")
def test_redis_carries_messages_in_order() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"KAMPANJ_TEST_QUEUES asks for redis but {REDIS_URL} is unreachable: {error}")
    _roundtrip(REDIS_URL, "sqlite:///unused.db")


def test_the_default_queue_sits_next_to_a_sqlite_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_url(f"sqlite:///{tmp_path}/k.db") == f"sqlite:///{tmp_path}/k.queue.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_url("postgresql+psycopg://u@h/db") == (
        f"sqlite:///{tmp_path}/data/kampanj/queue.db"
    )
    monkeypatch.setenv("KAMPANJ_QUEUE_URL", f"sqlite:///{tmp_path}/env.db")
    queue = open_queue(None, "postgresql+psycopg://u@h/db")
    assert queue.url == f"sqlite:///{tmp_path}/env.db"
    queue.close()


def test_an_unknown_queue_url_names_the_choices() -> None:
    with pytest.raises(UserError, match=r"sqlite:///PATH, redis://.*postgresql://"):
        open_queue("amqp://h/", "sqlite:///k.db")


def test_concurrent_consumers_take_each_message_once(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    """Two consumers draining one queue (PostgreSQL: SKIP LOCKED) never share a message."""
    url = f"sqlite:///{tmp_path / 'q.db'}" if backend == "sqlite" else database_url
    producer = open_queue(url, database_url)
    producer.storage.flush_queue()
    for n in range(300):
        producer.put({"kind": "chunk", "run": 1, "chunk": n})
    taken: list[list[int]] = [[], []]

    def drain(into: list[int]) -> None:
        queue = open_queue(url, database_url)
        while (message := queue.get()) is not None:
            into.append(message["chunk"])
        queue.close()

    threads = [threading.Thread(target=drain, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    producer.close()
    assert sorted(taken[0] + taken[1]) == list(range(300))
