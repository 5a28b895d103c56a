"""Storage basics on every backend: schema, seed, transactions, custom columns."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from kampanj.model.fields import FieldDef, FieldType
from kampanj.store import schema
from kampanj.store.database import SQLITE_PAGE_SIZE, Database, resolve_url
from kampanj.store.registry import add_custom_field, load_field_registry, person_table


def test_new_database_has_default_workspace_with_root_folder(database: Database) -> None:
    """WS-4: a new account has workspace Default (id 1) and its root folder."""
    with database.read() as connection:
        workspaces = connection.execute(sa.select(schema.workspace.c.id, schema.workspace.c.name))
        assert workspaces.all() == [(1, "Default")]
        root = connection.execute(
            sa.select(schema.folder.c.workspace_id, schema.folder.c.parent_id)
        ).all()
        assert root == [(1, None)]


def test_migrate_twice_is_harmless(database: Database) -> None:
    database.migrate()
    database.migrate()
    assert database.is_initialised()


def _score_field() -> FieldDef:
    return FieldDef(
        name="behaviorScore",
        display_name="Behavior Score",
        data_type=FieldType.SCORE,
        column="ignored",
        is_custom=True,
    )


def test_custom_field_becomes_a_column_and_rolls_back_with_its_transaction(
    database: Database,
) -> None:
    with pytest.raises(RuntimeError), database.begin() as connection:
        add_custom_field(connection, _score_field())
        raise RuntimeError("abort")
    with database.read() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("person")}
        assert "c_behavior_score" not in columns
        assert load_field_registry(connection).custom == ()

    with database.begin() as connection:
        add_custom_field(connection, _score_field())
    with database.begin() as connection:
        registry = load_field_registry(connection)
        table = person_table(registry)
        now = sa.func.now() if database.dialect == "postgresql" else sa.text("CURRENT_TIMESTAMP")
        connection.execute(
            sa.insert(table).values(
                email="a@example.com", c_behavior_score=7, created_at=now, updated_at=now
            )
        )
        stored = connection.execute(sa.select(table.c.c_behavior_score)).scalar_one()
    assert registry["Behavior Score"].column == "c_behavior_score"
    assert stored == 7


def test_ids_are_not_reused_after_delete(database: Database) -> None:
    """GEN-3: ids ascend and are never reused."""
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    with database.begin() as connection:
        first = connection.execute(
            sa.insert(schema.person).values(created_at=now, updated_at=now)
        ).inserted_primary_key
        connection.execute(sa.delete(schema.person))
        second = connection.execute(
            sa.insert(schema.person).values(created_at=now, updated_at=now)
        ).inserted_primary_key
    assert first is not None and second is not None
    assert second[0] > first[0]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("demo.db", "sqlite:///demo.db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_resolve_url(given: str, expected: str) -> None:
    assert resolve_url(given) == expected


def test_resolve_url_prefers_environment_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAMPANJ_DATABASE_URL", "sqlite:////tmp/env.db")
    assert resolve_url(None) == "sqlite:////tmp/env.db"
    assert resolve_url("other.db") == "sqlite:///other.db"


def test_new_sqlite_database_uses_large_pages(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/new.db")
    database.migrate()
    with database.read() as connection:
        page_size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    database.dispose()
    assert (page_size, journal) == (SQLITE_PAGE_SIZE, "wal")
