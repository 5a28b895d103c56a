"""Helpers shared by tests in several folders (``tests/`` is on ``sys.path`` via conftest)."""

from __future__ import annotations

import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command

from kampanj.smartlist.catalogue import Catalogue
from kampanj.smartlist.conditions import Moment
from kampanj.smartlist.context import CompileContext
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.migrate import alembic_config
from kampanj.store.registry import load_activity_types, load_field_registry, person_table

# Custom fields and a channel that definition tests build on; the names are the ones the
# README and the example use, so snippets written against them read naturally.
ACCOUNT_YAML = """\
fields:
  - {name: behaviorScore, displayName: Behavior Score, type: score}
  - {name: trail, displayName: Trail, type: string}
channels:
  - name: Webinar
    statuses: [Not in Program, Invited, {name: Attended, success: true}]
"""


def write(directory: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``directory/name`` (UTF-8) and return the path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def dump_tables(url: str) -> dict[str, Any]:
    """Every row of every kampanj table, plus the person table's columns.

    Comparing two dumps proves that nothing was written in between (VAL-3).
    """
    database = Database(url)
    try:
        with database.read() as connection:
            tables: dict[str, Any] = {
                table.name: sorted(
                    repr(sorted(row.items()))
                    for row in connection.execute(sa.select(table)).mappings()
                )
                for table in schema.metadata.sorted_tables
            }
            tables["person columns"] = sorted(
                column["name"] for column in sa.inspect(connection).get_columns("person")
            )
            return tables
    finally:
        database.dispose()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def kampanj_command() -> list[str]:
    """The argv prefix that runs this environment's `kampanj` in a subprocess."""
    script = Path(sys.executable).with_name("kampanj")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from kampanj.cli.app import main; main()"]


def migrate_to(database: Database, revision: str) -> None:
    """Upgrade to ``head`` or downgrade to ``revision`` (migration tests)."""
    config = alembic_config(database)
    with database.begin() as connection:
        config.attributes["connection"] = connection
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)


def compile_context(connection: sa.Connection, now: datetime) -> CompileContext:
    """A smart-list compile context from the database's fields and activity types, at
    ``now`` in UTC."""
    fields = load_field_registry(connection)
    return CompileContext(
        catalogue=Catalogue(fields, load_activity_types(connection)),
        person=person_table(fields),
        moment=Moment(now=now, zone=ZoneInfo("UTC")),
    )
