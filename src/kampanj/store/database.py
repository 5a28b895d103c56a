"""Opening the database: URL resolution, engine set-up, migrations (DESIGN.md §4)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from kampanj.errors import ConfigurationError
from kampanj.smartlist.folding import SQLITE_FOLD_FUNCTION, sqlite_fold
from kampanj.store.writer_lock import FairLock

DATABASE_URL_ENV = "KAMPANJ_DATABASE_URL"
DEFAULT_SQLITE_FILE = "kampanj.db"
_READ_ONLY = "kampanj_read_only"


def resolve_url(explicit: str | None = None) -> str:
    """The database URL: ``--db``, else ``KAMPANJ_DATABASE_URL``, else ``./kampanj.db``.

    ``postgresql://`` means psycopg 3; a bare file path means SQLite.
    """
    raw = explicit or os.environ.get(DATABASE_URL_ENV) or DEFAULT_SQLITE_FILE
    if "://" not in raw:
        return f"sqlite:///{raw}"
    if raw.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def create_db_engine(url: str) -> Engine:
    """An engine configured for kampanj on SQLite or PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ConfigurationError(
            f"cannot read database URL {url!r}: use sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST:PORT/DB"
        ) from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigurationError(
                f"PostgreSQL URLs must use psycopg 3: write postgresql+psycopg://… not {url!r}"
            )
        return create_engine(url, pool_pre_ping=True)
    raise ConfigurationError(
        f"unsupported database {backend!r}: kampanj runs on SQLite and PostgreSQL"
    )


SQLITE_PAGE_SIZE = 16384
"""Bytes per page of new SQLite databases (existing ones keep theirs until a VACUUM)."""


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin() own transactions so DDL (custom field columns) is
        # transactional too; pysqlite would otherwise autocommit it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Takes effect only while the file is still empty (a new database), and must come
        # before WAL mode. Bulk steps dirty thousands of pages per transaction; 16 KiB pages
        # mean a quarter of the WAL frames to write, which was ~13 % of a batch run's CPU.
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()
        # SL-12: case-insensitive operators fold Unicode text as PostgreSQL's lower() does.
        dbapi_connection.create_function(SQLITE_FOLD_FUNCTION, 1, sqlite_fold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # Writers take the lock up front: a deferred transaction that later writes can
        # fail with SQLITE_BUSY without waiting.
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class Database:
    """One kampanj database: an engine plus transactions and migrations."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        # SQLite writers of this process take turns here (store/writer_lock.py).
        self._writer = FairLock() if self.dialect == "sqlite" else None

    @classmethod
    def open(cls, url: str | None = None) -> Database:
        """Open the database named by ``url`` (see `resolve_url`)."""
        return cls(resolve_url(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def writer_turns_waited(self) -> int:
        """How many times so far a thread of this process had to wait for another one's
        write transaction (SQLite; always 0 elsewhere): a measure of concurrent writing."""
        return 0 if self._writer is None else self._writer.turns_waited()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls back on any error."""
        if self._writer is None:
            with self._connect() as connection, connection.begin():
                yield connection
            return
        with self._writer, self._connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self._connect() as connection:
            connection = connection.execution_options(**{_READ_ONLY: True})
            with connection.begin():
                yield connection

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            connection = self.engine.connect()
        except OperationalError as error:
            # Drivers explain over several lines; one line is enough to say what to fix.
            reason = " ".join(str(error.orig).split())
            raise ConfigurationError(f"cannot connect to {self.display_url}: {reason}") from error
        with connection:
            yield connection

    def is_initialised(self) -> bool:
        """Whether the schema has been created (``kampanj init`` has run)."""
        with self._connect() as connection:
            return inspect(connection).has_table("alembic_version")

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        from kampanj.store.migrate import upgrade_to_head

        if self.dialect == "sqlite":
            _ensure_parent_dir(self.engine.url.database)
        upgrade_to_head(self)

    def dispose(self) -> None:
        self.engine.dispose()


def _ensure_parent_dir(database: str | None) -> None:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
