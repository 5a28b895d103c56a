"""Helpers the benchmarks share for building their datasets: PostgreSQL databases of their
own, fresh statistics, and building in a child process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from kampanj.store.database import Database


def pg_execute(url: str, *statements: str) -> None:
    """Run ``statements`` on the server at ``url`` outside a transaction (CREATE/DROP
    DATABASE)."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    admin.dispose()


def pg_url(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


def refresh_statistics(database: Database) -> None:
    """``ANALYZE`` (SQLite) or ``VACUUM ANALYZE`` (PostgreSQL) after a bulk build."""
    with database.engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.exec_driver_sql("VACUUM ANALYZE" if database.dialect != "sqlite" else "ANALYZE")


def in_child(function: Callable[..., None], *arguments: Any) -> None:
    """Run ``function`` in a forked process so its memory stays out of this one's peak."""
    process = multiprocessing.get_context("fork").Process(target=function, args=arguments)
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"building the dataset failed (exit code {process.exitcode})")
