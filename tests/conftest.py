"""Shared fixtures: every backend-facing test runs on each configured database.

``KAMPANJ_TEST_BACKENDS`` (default ``sqlite``) lists the backends, comma-separated.
A backend that was asked for but cannot be reached makes its tests fail, never skip.
``KAMPANJ_TEST_POSTGRES_URL`` names the PostgreSQL server's maintenance database
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
import sqlalchemy as sa

from kampanj.store.database import Database

BACKENDS = [b.strip() for b in os.environ.get("KAMPANJ_TEST_BACKENDS", "sqlite").split(",") if b]
POSTGRES_ADMIN_URL = os.environ.get(
    "KAMPANJ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_unknown = set(BACKENDS) - {"sqlite", "postgresql"}
if _unknown:
    raise pytest.UsageError(f"unknown KAMPANJ_TEST_BACKENDS entries: {sorted(_unknown)}")


@pytest.fixture(scope="session", autouse=True)
def private_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test writes to the user's home: the default work queue of a PostgreSQL database is
    ``$XDG_DATA_HOME/kampanj/queue.db`` (queue/backends.py ``default_url``), so the session,
    and every process it starts, gets its own data directory; a ``KAMPANJ_QUEUE_URL`` of
    the caller's shell is not used either (tests that want one set it)."""
    home = tmp_path_factory.mktemp("xdg-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(home))
        patch.delenv("KAMPANJ_QUEUE_URL", raising=False)
        yield home


class PostgresServer:
    """Creates one template database per test session and a fresh copy per test."""

    def __init__(self, admin_url: str) -> None:
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"kampanj_test_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self._numbers = count(1)
        self._template_ready = False

    def url_for(self, name: str) -> str:
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(statement)

    def _ensure_template(self) -> None:
        if self._template_ready:
            return
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}"')
        self._execute(f'CREATE DATABASE "{self.template}"')
        database = Database(self.url_for(self.template))
        database.migrate()
        database.dispose()
        self._template_ready = True

    def fresh(self) -> str:
        self._ensure_template()
        name = f"{self.prefix}_{next(self._numbers)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def drop(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._template_ready:
            self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_ADMIN_URL)
    try:
        with server.admin.connect():
            pass
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL was requested (KAMPANJ_TEST_BACKENDS={','.join(BACKENDS)}) but "
            f"{POSTGRES_ADMIN_URL} cannot be reached: {error.orig}",
            pytrace=False,
        )
    yield server
    server.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, scope="function")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of a freshly migrated, empty database on ``backend``."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kampanj.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.fresh()
    yield server.url_for(name)
    server.drop(name)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A freshly migrated, empty `Database` on each configured backend."""
    database = Database(database_url)
    yield database
    database.dispose()
