"""The migration history: one head, and upgrading builds every table of the schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.migrate import alembic_config


def test_exactly_one_head(database: Database) -> None:
    """Two engineers adding migrations must not leave two heads behind."""
    script = ScriptDirectory.from_config(alembic_config(database))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_upgrade_creates_every_table_on_each_backend(database: Database) -> None:
    """The fixture's database was upgraded to head; it matches `store.schema`."""
    database.migrate()  # a second upgrade at head is a no-op
    with database.read() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        head = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert set(schema.metadata.tables) <= tables
    script = ScriptDirectory.from_config(alembic_config(database))
    assert head == script.get_current_head()
    for name in ("run", "run_member", "run_step", "run_progress"):
        assert name in tables
