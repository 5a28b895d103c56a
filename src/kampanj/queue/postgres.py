"""A Huey storage on a PostgreSQL table: FIFO by id, taken with ``FOR UPDATE SKIP LOCKED``.

Only the queue part of Huey's storage API is implemented: kampanj keeps schedules and
results in its own database (the ledger), so the queue only carries messages.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from huey.storage import BaseStorage  # type: ignore[import-untyped]

_TABLE = "kampanj_queue"


def engine_url(url: str) -> str:
    """``postgresql://…`` → the psycopg 3 driver SQLAlchemy needs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class PostgresStorage(BaseStorage):  # type: ignore[misc]
    def __init__(self, name: str = "kampanj", url: str = "", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.engine = sa.create_engine(engine_url(url), pool_pre_ping=True)
        with self.engine.begin() as connection:
            connection.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} (id BIGSERIAL PRIMARY KEY, "
                "queue TEXT NOT NULL, data BYTEA NOT NULL)"
            )

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                sa.text(f"INSERT INTO {_TABLE} (queue, data) VALUES (:queue, :data)"),
                {"queue": self.name, "data": data},
            )

    def dequeue(self) -> bytes | None:
        statement = sa.text(
            f"DELETE FROM {_TABLE} WHERE id = (SELECT id FROM {_TABLE} WHERE queue = :queue "
            "ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING data"
        )
        with self.engine.begin() as connection:
            data = connection.execute(statement, {"queue": self.name}).scalar()
        return None if data is None else bytes(data)

    def queue_size(self) -> int:
        statement = sa.text(f"SELECT count(*) FROM {_TABLE} WHERE queue = :queue")
        with self.engine.connect() as connection:
            return int(connection.execute(statement, {"queue": self.name}).scalar_one())

    def flush_queue(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                sa.text(f"DELETE FROM {_TABLE} WHERE queue = :queue"), {"queue": self.name}
            )

    def close(self) -> None:
        self.engine.dispose()
