"""Migration 0013 (issues 4 and 5): the two ``run_member`` indexes that contain ``state``
become partial; downgrading restores them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from kampanj.store.database import Database
from testsupport import migrate_to


def _indexes(database: Database, table: str) -> dict[str, tuple[list[Any], str]]:
    """Index name → (columns, condition); the condition as the database stores it."""
    with database.read() as connection:
        found = {
            index["name"]: index["column_names"]
            for index in sa.inspect(connection).get_indexes(table)
            if index["name"] is not None
        }
        if database.dialect == "postgresql":
            rows = connection.execute(
                sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"),
                {"t": table},
            )
        else:
            rows = connection.execute(
                sa.text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
                ),
                {"t": table},
            )
        definitions = {name: sql or "" for name, sql in rows}
    return {
        name: (columns, definitions[name].partition(" WHERE ")[2])
        for name, columns in found.items()
    }


def test_upgrade_makes_them_partial_and_downgrade_restores(database: Database) -> None:
    member = _indexes(database, "run_member")
    wake_columns, waiting = member["ix_run_member_wake"]
    person_columns, live = member["ix_run_member_person"]
    assert (wake_columns, person_columns) == (["wake_at"], ["person_id", "state"])
    assert "'waiting'" in waiting and "'active'" not in waiting
    assert "'active'" in live and "'waiting'" in live

    migrate_to(database, "0012")
    member = _indexes(database, "run_member")
    assert member["ix_run_member_wake"] == (["state", "wake_at"], "")
    assert member["ix_run_member_person"] == (["person_id", "state"], "")

    migrate_to(database, "head")
    assert _indexes(database, "run_member")["ix_run_member_wake"][1] == waiting
