"""The work queue named by ``KAMPANJ_QUEUE_URL`` (or ``--queue``): SQLite, Redis, PostgreSQL.

Messages are small JSON documents of ids (``{"kind": "chunk", "run": R, "chunk": C}``,
``{"kind": "tick"}``, ``{"kind": "dispatch"}``): the database is the ledger, the queue
only says "look at this now", so a lost message costs a delay until the next sweep,
never work (DESIGN.md §5).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey.storage import BaseStorage, RedisStorage, SqliteStorage  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from kampanj.errors import UserError
from kampanj.queue.postgres import PostgresStorage

QUEUE_ENV = "KAMPANJ_QUEUE_URL"
QUEUE_NAME = "kampanj"


@dataclass(slots=True)
class WorkQueue:
    """JSON messages over a Huey storage."""

    url: str
    storage: BaseStorage

    def put(self, message: dict[str, Any]) -> None:
        self.storage.enqueue(json.dumps(message, sort_keys=True).encode())

    def get(self) -> dict[str, Any] | None:
        data = self.storage.dequeue()
        if data is None:
            return None
        message: dict[str, Any] = json.loads(data)
        return message

    def size(self) -> int:
        return int(self.storage.queue_size())

    def close(self) -> None:
        self.storage.close()


def default_url(database_url: str) -> str:
    """A SQLite queue next to a SQLite database, else in the user's data directory."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database))
        return f"sqlite:///{path.with_name(path.stem + '.queue.db')}"
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'kampanj' / 'queue.db'}"


def open_queue(url: str | None, database_url: str) -> WorkQueue:
    """The queue at ``url``, else ``KAMPANJ_QUEUE_URL``, else the default for the database."""
    chosen = url or os.environ.get(QUEUE_ENV) or default_url(database_url)
    scheme = chosen.split("://", 1)[0].split("+", 1)[0]
    if scheme == "sqlite":
        if not chosen.startswith("sqlite:///"):
            raise UserError(f"queue URL {chosen!r}: write sqlite:///PATH")
        path = Path(chosen[len("sqlite:///") :])  # sqlite:////abs or sqlite:///relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return WorkQueue(chosen, SqliteStorage(QUEUE_NAME, filename=str(path)))
    if scheme in ("redis", "rediss"):
        return WorkQueue(chosen, RedisStorage(QUEUE_NAME, url=chosen, read_timeout=1))
    if scheme in ("postgresql", "postgres"):
        return WorkQueue(chosen, PostgresStorage(QUEUE_NAME, url=chosen))
    raise UserError(
        f"queue URL {chosen!r}: use sqlite:///PATH, redis://HOST:PORT/DB or "
        "postgresql://USER@HOST/DATABASE"
    )
