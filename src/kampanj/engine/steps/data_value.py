"""Change Data Value (FLOW-13..15): NULL clears, blank does nothing, 13 only on change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, select, update

from kampanj.engine.steps.base import (
    StepEnv,
    StepOutcome,
    every_person_fails,
    insert_activity_rows,
    person_rows,
    update_each,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import ParamValue
from kampanj.model.conversions import (
    UNCHANGED,
    Directive,
    ValueConversionError,
    convert_text,
    format_value,
)
from kampanj.model.fields import FieldDef
from kampanj.model.people import FieldValue

INVALID_VALUE = "INVALID_VALUE"  # FLOW-14
READ_ONLY_FIELD = "READ_ONLY_FIELD"  # FLOW-14


def apply(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    attribute = str(params.get("attribute") or "")
    field = env.fields.get(attribute)
    if field is None:
        return every_person_fails(
            connection, env, cohort, INVALID_VALUE, f"there is no field {attribute!r}"
        )
    if field.read_only or field.update_blocked:
        return every_person_fails(
            connection,
            env,
            cohort,
            READ_ONLY_FIELD,
            f"{field.display_name} is read-only; a flow cannot change it (FLOW-14)",
        )
    template = env.template(params.get("newValue"))
    if template.is_constant:
        return _apply_constant(connection, env, field, template.constant(), cohort)
    return _apply_per_person(connection, env, field, template.render_many, cohort, template)


def _convert(field: FieldDef, text: str, env: StepEnv) -> tuple[bool, FieldValue]:
    """(whether the step writes, the value): blank writes nothing, NULL clears (FLOW-13)."""
    converted = convert_text(field.data_type, text, env.zone)
    if isinstance(converted, Directive):
        return converted is not UNCHANGED, None
    return True, converted


def _change_rows(
    field: FieldDef, changes: list[tuple[int, FieldValue, FieldValue]]
) -> list[tuple[int, dict[str, object]]]:
    return [
        (
            person_id,
            {
                "Attribute Name": field.display_name,
                "Old Value": format_value(old),
                "New Value": format_value(new),
            },
        )
        for person_id, old, new in changes
    ]


def _write(
    connection: Connection,
    env: StepEnv,
    field: FieldDef,
    changes: list[tuple[int, FieldValue, FieldValue]],
) -> None:
    insert_activity_rows(
        connection,
        env,
        _change_rows(field, changes),
        activity_type_id=StandardActivity.CHANGE_DATA_VALUE,
        primary_value=field.display_name,
    )


def _apply_constant(
    connection: Connection, env: StepEnv, field: FieldDef, text: str, cohort: Select[Any]
) -> StepOutcome:
    """One value for everyone: convert once, then set-based statements (FLOW-13..15)."""
    try:
        writes, value = _convert(field, text, env)
    except ValueConversionError as error:
        return every_person_fails(
            connection, env, cohort, INVALID_VALUE, f"{field.display_name}: {error}"
        )
    count = len(connection.execute(cohort.order_by(None)).all())
    if not writes:
        return StepOutcome(executed=count)
    column = env.person.c[field.column]
    differs = [env.person.c.id.in_(cohort), column.is_distinct_from(value)]
    old_values = connection.execute(
        select(env.person.c.id, column).where(*differs).order_by(env.person.c.id)
    ).all()
    _write(connection, env, field, [(row[0], row[1], value) for row in old_values])
    connection.execute(
        update(env.person).where(*differs).values({column: value, "updated_at": env.now})
    )
    return StepOutcome(executed=count)


def _apply_per_person(
    connection: Connection,
    env: StepEnv,
    field: FieldDef,
    render: Any,
    cohort: Select[Any],
    template: Any,
) -> StepOutcome:
    """Person tokens: render for the cohort in bulk, convert each, apply in bulk (FLOW-4/5)."""
    rows = person_rows(connection, env, cohort, [field.column, *template.person_columns])
    texts = render(rows)
    outcome = StepOutcome()
    changes: list[tuple[int, FieldValue, FieldValue]] = []
    for row, text in zip(rows, texts, strict=True):
        person_id = row["id"]
        try:
            writes, value = _convert(field, text, env)
        except ValueConversionError as error:
            outcome.errors.append(
                env.issue(INVALID_VALUE, f"{field.display_name}: {error}", person_id)
            )
            continue
        outcome.executed += 1
        if not writes:
            continue
        old = row[field.column]
        if old != value or (old is None) != (value is None):
            changes.append((person_id, old, value))
    _write(connection, env, field, changes)
    update_each(connection, env, field.column, [(p, new) for p, _old, new in changes])
    return outcome
