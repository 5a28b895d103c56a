"""Field and activity-type registries as stored, and the ``person`` table they imply."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, insert, select

from kampanj.model.activities import ActivityTypeDef, ActivityTypeRegistry, AttributeDef
from kampanj.model.fields import (
    STANDARD_FIELDS,
    FieldDef,
    FieldRegistry,
    FieldType,
    custom_column_name,
)
from kampanj.store import schema


def load_field_registry(connection: Connection) -> FieldRegistry:
    """Standard fields plus the account's custom fields."""
    rows = connection.execute(
        select(schema.field_def).where(schema.field_def.c.is_custom).order_by(schema.field_def.c.id)
    ).mappings()
    return FieldRegistry((*STANDARD_FIELDS, *(_field_from_row(row) for row in rows)))


def _field_from_row(row: Any) -> FieldDef:
    return FieldDef(
        name=row["name"],
        display_name=row["display_name"],
        data_type=FieldType(row["data_type"]),
        column=row["column_name"],
        is_custom=True,
        is_company=row["is_company"],
        is_html_encoding_in_email=row["html_encode"],
        read_only=row["read_only"],
        update_blocked=row["update_blocked"],
    )


def add_custom_field(connection: Connection, field: FieldDef) -> None:
    """Register a custom field and add its ``person`` column in the caller's transaction.

    The column name is derived from the validated REST name (`custom_column_name`), and
    the DDL is emitted by Alembic's operations, so no user text reaches SQL.
    """
    column = custom_column_name(field.name)
    connection.execute(
        insert(schema.field_def).values(
            name=field.name,
            display_name=field.display_name,
            data_type=field.data_type.value,
            column_name=column,
            is_custom=True,
            is_company=field.is_company,
            html_encode=field.is_html_encoding_in_email,
            read_only=field.read_only,
            update_blocked=field.update_blocked,
        )
    )
    stored = FieldDef(
        name=field.name,
        display_name=field.display_name,
        data_type=field.data_type,
        column=column,
        is_custom=True,
    )
    operations = Operations(MigrationContext.configure(connection))
    operations.add_column("person", schema.field_column(stored))


def update_custom_field(connection: Connection, field: FieldDef) -> None:
    """Change a custom field's display name and flags (its type and column stay)."""
    connection.execute(
        schema.field_def.update()
        .where(schema.field_def.c.name == field.name)
        .values(
            display_name=field.display_name,
            is_company=field.is_company,
            html_encode=field.is_html_encoding_in_email,
            read_only=field.read_only,
            update_blocked=field.update_blocked,
        )
    )


def person_table(registry: FieldRegistry) -> Table:
    """The ``person`` table including one column per custom field of ``registry``."""
    return _person_table(tuple((f.column, f.data_type) for f in registry.custom))


@lru_cache(maxsize=64)
def _person_table(custom: tuple[tuple[str, FieldType], ...]) -> Table:
    metadata = MetaData()
    columns = [schema.field_column(f) for f in STANDARD_FIELDS]
    for column_name, data_type in custom:
        field = FieldDef(
            name=column_name, display_name=column_name, data_type=data_type, column=column_name
        )
        columns.append(schema.field_column(field))
    return Table("person", metadata, *columns)


def load_activity_types(connection: Connection) -> ActivityTypeRegistry:
    """Standard activity types plus the account's custom ones."""
    rows = connection.execute(
        select(schema.activity_type).order_by(schema.activity_type.c.id)
    ).mappings()
    return ActivityTypeRegistry.standard().with_types(_activity_type_from_row(r) for r in rows)


def _attribute(document: dict[str, Any]) -> AttributeDef:
    return AttributeDef(name=document["name"], data_type=FieldType(document["dataType"]))


def _activity_type_from_row(row: Any) -> ActivityTypeDef:
    primary = row["primary_attribute"]
    return ActivityTypeDef(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        primary=_attribute(primary) if primary else None,
        attributes=tuple(_attribute(a) for a in row["attributes"]),
        trigger_name=row["trigger_name"],
        filter_name=row["filter_name"],
        retention_days=row["retention_days"],
        is_custom=row["is_custom"],
    )


def activity_type_to_row(activity_type: ActivityTypeDef) -> dict[str, Any]:
    """The stored form of a custom activity type."""

    def attribute(a: AttributeDef) -> dict[str, str]:
        return {"name": a.name, "dataType": a.data_type.value}

    return {
        "id": activity_type.id,
        "name": activity_type.name,
        "description": activity_type.description,
        "primary_attribute": attribute(activity_type.primary) if activity_type.primary else None,
        "attributes": [attribute(a) for a in activity_type.attributes],
        "trigger_name": activity_type.trigger_name,
        "filter_name": activity_type.filter_name,
        "retention_days": activity_type.retention_days,
        "is_custom": True,
    }
