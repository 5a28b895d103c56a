"""Person reads and writes of the Lead Database API (API-28, API-29, API-31), over the store.

Writes log what ACT-7 asks with ``Source = Web Service API`` (ACT-5): New Lead on creation,
Change Data Value per changed field, Delete Lead on deletion. Records are processed in
input order in one transaction, so a later record sees what an earlier one created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, update

from kampanj.api.envelope import LEAD_NOT_FOUND, skipped
from kampanj.ingest.changes import change_data_value, new_lead
from kampanj.model.activities import StandardActivity
from kampanj.model.conversions import (
    CLEAR,
    UNCHANGED,
    ValueConversionError,
    convert_json,
    email_problem,
)
from kampanj.model.fields import FieldDef, FieldRegistry, FieldType
from kampanj.model.people import FieldValue
from kampanj.store import people_repo
from kampanj.store.activities_repo import activity_row, insert_activities
from kampanj.store.schema import campaign_member, list_member, person, program_member

API_SOURCE = "Web Service API"  # ACT-5: Source of activities written by REST calls
_LOOKUP_TYPES = frozenset({FieldType.STRING, FieldType.EMAIL, FieldType.INTEGER})

WRONG_TYPE = "1001"
LEAD_EXISTS = "1005"
FIELD_NOT_FOUND = "1006"
SEVERAL_MATCH = "1007"
NOT_SEARCHABLE = "1011"
INVALID = "1003"


class Action(StrEnum):
    """``action`` of ``POST leads.json`` (API-28)."""

    CREATE_OR_UPDATE = "createOrUpdate"
    CREATE_ONLY = "createOnly"
    UPDATE_ONLY = "updateOnly"
    CREATE_DUPLICATE = "createDuplicate"


def searchable(field: FieldDef) -> bool:
    """Whether ``field`` can look people up (``filterType``, ``lookupField``, describe2)."""
    return field.name == "id" or (field.data_type in _LOOKUP_TYPES and not field.read_only)


def matching(table: Table, field: FieldDef, value: FieldValue) -> Any:
    """``field = value``; emails compare case-insensitively."""
    column = table.c[field.column]
    if field.data_type is FieldType.EMAIL and isinstance(value, str):
        return func.lower(column) == value.lower()
    return column == value


@dataclass(frozen=True, kw_only=True, slots=True)
class UpsertContext:
    """What one upsert call needs besides its records."""

    registry: FieldRegistry
    """Fields of the account."""
    table: Table
    """The ``person`` table with custom columns."""
    zone: tzinfo
    """Account time zone (datetimes without an offset)."""
    action: Action
    """What to do with matches and misses."""
    lookup: FieldDef
    """Field that finds the person."""
    now: datetime
    """Clock at the call."""


class _Skip(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def upsert(
    connection: Connection, context: UpsertContext, records: Sequence[object]
) -> list[dict[str, Any]]:
    """One result item per record, in input order (API-6)."""
    results: list[dict[str, Any]] = []
    for record in records:
        try:
            results.append(_upsert_one(connection, context, record))
        except _Skip as skip:
            results.append(skipped(skip.code, skip.message))
    return results


def _values(context: UpsertContext, record: Mapping[str, object]) -> dict[str, FieldValue]:
    """Converted values by column; ``id`` is left to the caller."""
    values: dict[str, FieldValue] = {}
    for name, raw in record.items():
        if name == "id":
            continue
        field = context.registry.get(name)
        if field is None:
            raise _Skip(FIELD_NOT_FOUND, f"Field '{name}' not found")
        if field.read_only:
            raise _Skip(INVALID, f"Field '{field.name}' is read-only")
        try:
            converted = convert_json(field.data_type, raw, context.zone)
        except ValueConversionError as error:
            raise _Skip(WRONG_TYPE, f"Invalid value for field '{field.name}': {error}") from None
        if converted is UNCHANGED:
            continue
        value = None if converted is CLEAR else converted
        if field.data_type is FieldType.EMAIL and isinstance(value, str):
            problem = email_problem(value)
            if problem is not None:
                raise _Skip(WRONG_TYPE, f"Invalid value for field '{field.name}': {problem}")
        values[field.column] = value
    return values


def _upsert_one(connection: Connection, context: UpsertContext, record: object) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise _Skip(INVALID, "Each input record must be a JSON object")
    by_id = "id" in record
    if by_id and context.action is not Action.UPDATE_ONLY:
        raise _Skip(INVALID, "Field 'id' is only allowed with action updateOnly")
    values = _values(context, record)
    found = _find(connection, context, record, values, by_id=by_id)
    action = context.action
    if action is Action.CREATE_DUPLICATE or (found == [] and action is not Action.UPDATE_ONLY):
        return {"id": _create(connection, context, values), "status": "created"}
    if found is None or found == []:
        raise _Skip(LEAD_NOT_FOUND, "Lead not found")
    if len(found) > 1:
        raise _Skip(SEVERAL_MATCH, f"Multiple leads match the lookup criteria ({len(found)})")
    if action is Action.CREATE_ONLY:
        raise _Skip(LEAD_EXISTS, "Lead already exists")
    current = found[0]
    sent, stored = values.get(context.lookup.column), current[context.lookup.column]
    if isinstance(sent, str) and isinstance(stored, str) and sent.casefold() == stored.casefold():
        # The lookup value found this lead; a different case is not a change.
        values = {c: v for c, v in values.items() if c != context.lookup.column}
    _update(connection, context, current, values)
    return {"id": current["id"], "status": "updated"}


def _find(
    connection: Connection,
    context: UpsertContext,
    record: Mapping[str, object],
    values: Mapping[str, FieldValue],
    *,
    by_id: bool,
) -> list[Any] | None:
    """Stored matches; None when the record has no lookup value."""
    table = context.table
    if by_id or context.lookup.name == "id":
        raw = record.get("id")
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
            return None
        statement = select(table).where(table.c.id == int(raw))
    else:
        key = values.get(context.lookup.column)
        if key is None:
            return None
        statement = select(table).where(matching(table, context.lookup, key)).order_by(table.c.id)
    if connection.dialect.name == "postgresql":
        statement = statement.with_for_update()
    return list(connection.execute(statement).mappings())


def _create(connection: Connection, context: UpsertContext, values: Mapping[str, Any]) -> int:
    (person_id,) = people_repo.allocate_person_ids(connection, 1)
    columns = list(values)
    people_repo.insert_people(
        connection,
        context.table,
        ["id", *columns],
        [(person_id, *(values[c] for c in columns))],
        constants={"created_at": context.now, "updated_at": context.now},
    )
    insert_activities(connection, [new_lead(person_id, context.now, context.zone, API_SOURCE)])
    return person_id


def _update(
    connection: Connection, context: UpsertContext, current: Any, values: Mapping[str, Any]
) -> None:
    changed = {c: v for c, v in values.items() if current[c] != v}
    if not changed:
        return
    by_column = {f.column: f for f in context.registry}
    blocked = [by_column[c].name for c in changed if by_column[c].update_blocked]
    if blocked:
        raise _Skip(INVALID, f"Field '{blocked[0]}' can only be set when the lead is created")
    connection.execute(
        update(context.table)
        .where(context.table.c.id == current["id"])
        .values({**changed, "updated_at": context.now})
    )
    insert_activities(
        connection,
        [
            change_data_value(current["id"], by_column[c], current[c], new, context.now, API_SOURCE)
            for c, new in changed.items()
        ],
    )


def delete_people(
    connection: Connection, person_ids: Sequence[int], now: datetime
) -> dict[int, bool]:
    """Delete the existing ones among ``person_ids`` with Delete Lead (37); id → deleted."""
    existing = people_repo.existing_ids(connection, person_ids)
    gone = sorted(existing)
    if gone:
        for table in (list_member, program_member, campaign_member):
            connection.execute(delete(table).where(table.c.person_id.in_(gone)))
        connection.execute(delete(person).where(person.c.id.in_(gone)))
        insert_activities(
            connection,
            [
                activity_row(
                    person_id=person_id,
                    activity_type_id=StandardActivity.DELETE_LEAD,
                    activity_date=now,
                    attributes={"Source": API_SOURCE},
                )
                for person_id in gone
            ],
        )
    return {person_id: person_id in existing for person_id in person_ids}
