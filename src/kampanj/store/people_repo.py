"""People as stored: bulk reads and writes for ingestion, `Person` objects at the edge."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    RowMapping,
    Select,
    String,
    Table,
    any_,
    bindparam,
    column,
    func,
    select,
    text,
    update,
)

from kampanj.model.fields import FieldRegistry
from kampanj.model.people import FieldValue, Person
from kampanj.store.bulk import bulk_insert
from kampanj.store.registry import person_table
from kampanj.store.schema import person

Row = RowMapping


def allocate_person_ids(connection: Connection, count: int) -> list[int]:
    """Reserve ``count`` new ascending person ids in the caller's write transaction (GEN-3).

    Ids are handed out before the insert so that New Lead activities can be written in the
    same bulk pass without reading the rows back.
    """
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        allocated = connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('person', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": count},
        ).scalars()
        return sorted(int(value) for value in allocated)
    # SQLite: the writer holds the database lock (BEGIN IMMEDIATE), and AUTOINCREMENT keeps
    # the high-water mark in sqlite_sequence, which the explicit ids then advance.
    sequence = connection.execute(
        text("SELECT seq FROM sqlite_sequence WHERE name = 'person'")
    ).scalar()
    highest = connection.execute(select(func.max(person.c.id))).scalar()
    start = max(int(sequence or 0), int(highest or 0)) + 1
    return list(range(start, start + count))


def find_by_emails(
    connection: Connection, table: Table, emails: Sequence[str]
) -> dict[str, list[Row]]:
    """Stored people whose lower-cased email is one of ``emails`` (already lower-cased)."""
    found: dict[str, list[Row]] = {}
    if not emails:
        return found
    # One bound parameter for the whole chunk (not one per email): a JSON array on SQLite,
    # an array on PostgreSQL; both probe the lower(email) index.
    lowered = func.lower(table.c.email)
    if connection.dialect.name == "postgresql":
        wanted = bindparam("emails", list(emails), type_=ARRAY(String))
        statement = select(table).where(lowered == any_(wanted)).with_for_update()
    else:
        listed: Select[Any] = select(column("value")).select_from(
            func.json_each(bindparam("emails", json.dumps(list(emails))))
        )
        statement = select(table).where(lowered.in_(listed))
    for row in connection.execute(statement).mappings():
        found.setdefault(row["email"].lower(), []).append(row)
    return found


def find_by_ids(connection: Connection, table: Table, ids: Sequence[int]) -> dict[int, Row]:
    """Stored people among ``ids``, by id."""
    if not ids:
        return {}
    statement = select(table).where(table.c.id.in_(ids))
    if connection.dialect.name == "postgresql":
        statement = statement.with_for_update()
    return {row["id"]: row for row in connection.execute(statement).mappings()}


def existing_ids(connection: Connection, ids: Iterable[int]) -> set[int]:
    """The subset of ``ids`` naming stored people."""
    wanted = list(set(ids))
    if not wanted:
        return set()
    rows = connection.execute(select(person.c.id).where(person.c.id.in_(wanted))).scalars()
    return set(rows)


def insert_people(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert people: ``rows`` hold values in ``columns`` order (``id`` included)."""
    bulk_insert(connection, table, columns, rows, constants)


_ID_PARAM = "p_id"


def update_people(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Set ``columns`` of each row's person (``p_id``) to the row's ``v_<column>`` values."""
    if not rows:
        return
    statement = (
        update(table)
        .where(table.c.id == bindparam(_ID_PARAM))
        .values({column: bindparam("v_" + column) for column in columns})
    )
    connection.execute(statement, list(rows))


def update_params(person_id: int, values: Mapping[str, object]) -> dict[str, object]:
    """One parameter set for `update_people`."""
    params: dict[str, object] = {"v_" + column: value for column, value in values.items()}
    params[_ID_PARAM] = person_id
    return params


def person_from_row(registry: FieldRegistry, row: Row) -> Person:
    """A `Person` with its field values keyed by REST name."""
    fields: dict[str, FieldValue] = {}
    for field in registry:
        if field.column in row:
            fields[field.name] = row[field.column]
    return Person(id=row["id"], fields=fields)


def get_person(connection: Connection, registry: FieldRegistry, person_id: int) -> Person | None:
    """The person with ``person_id``, or None."""
    table = person_table(registry)
    row = connection.execute(select(table).where(table.c.id == person_id)).mappings().first()
    return None if row is None else person_from_row(registry, row)
