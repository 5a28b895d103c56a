"""Change Data Value (FLOW-13..15): NULL clears, blank does nothing, 13 only on change."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    case,
    false,
    func,
    literal,
    null,
    select,
    update,
)

from kampanj.engine.steps.base import (
    StepEnv,
    StepOutcome,
    as_text,
    cohort_size,
    every_person_fails,
    insert_activity_rows,
    insert_activity_select,
    person_rows,
    text_value,
    update_each,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import ParamValue
from kampanj.model.conversions import (
    CLEAR_TEXT,
    MAX_STRING_LENGTH,
    UNCHANGED,
    Directive,
    ValueConversionError,
    convert_text,
    format_value,
)
from kampanj.model.fields import FieldDef, FieldType
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
    rendered = template.sql_text(env.person) if field.data_type.is_textual else None
    if rendered is not None:
        fixed = "".join(s for s in template.segments if isinstance(s, str))
        return _apply_rendered(connection, env, field, rendered, fixed, cohort)
    return _apply_per_person(connection, env, field, template.render_many, cohort, template)


def flagged(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue]
) -> ColumnElement[bool] | None:
    """The persons whose SQL-rendered value is too long (FLOW-14), over ``person`` columns;
    None when the step takes another path. The cohort engine counts them with its
    partition, so a step where nobody fails reads its cohort once less."""
    field = env.fields.get(str(params.get("attribute") or ""))
    if field is None or field.read_only or field.update_blocked:
        return None
    template = env.template(params.get("newValue"))
    if template.is_constant or not field.data_type.is_textual:
        return None
    rendered = template.sql_text(env.person)
    if rendered is None:
        return None
    fixed = "".join(s for s in template.segments if isinstance(s, str))
    return _rendered_tests(connection, field, rendered, fixed).too_long


@dataclass(frozen=True, slots=True)
class _RenderedTests:
    """FLOW-13/14 on a SQL-rendered value: what it writes and whether it fails."""

    blank: ColumnElement[bool]
    new: ColumnElement[Any]
    too_long: ColumnElement[bool]


def _rendered_tests(
    connection: Connection, field: FieldDef, rendered: ColumnElement[str], fixed: str
) -> _RenderedTests:
    """``fixed`` is the template's constant text: when it has a non-space character, no
    person's text is blank, and when it has a character ``NULL`` lacks, none clears."""
    blank: ColumnElement[bool] = false()
    if not fixed or fixed.isspace():
        trim = func.btrim if connection.dialect.name == "postgresql" else func.trim
        blank = trim(rendered, literal(_whitespace(), String)) == ""
    clears: ColumnElement[bool] = false()
    new: ColumnElement[Any] = rendered
    if set(fixed) <= set(CLEAR_TEXT):
        clears = rendered == CLEAR_TEXT
        new = case((clears, null()), else_=rendered)
    too_long: ColumnElement[bool] = false()
    if field.data_type is not FieldType.TEXT:
        too_long = and_(~blank, ~clears, func.length(rendered) > MAX_STRING_LENGTH)
    return _RenderedTests(blank=blank, new=new, too_long=too_long)


@cache
def _whitespace() -> str:
    """Every character `str.isspace` accepts: text made only of these is blank (FLOW-13)."""
    return "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


def _stored_text(env: StepEnv, field: FieldDef) -> ColumnElement[Any] | None:
    """The field's value as an activity attribute, in SQL (`format_value`, and empty text
    becomes NULL: ACT-1 drops empty attributes); None where SQL would write it differently."""
    column = env.person.c[field.column]
    if field.data_type.is_textual:
        return func.nullif(column, "")
    if field.data_type in (FieldType.INTEGER, FieldType.SCORE):
        return as_text(column)
    return None


def _insert_changes(
    connection: Connection,
    env: StepEnv,
    field: FieldDef,
    changing: ColumnElement[bool],
    old: ColumnElement[Any],
    new: ColumnElement[Any],
) -> None:
    """One 13 activity per person matching ``changing``, from SQL old and new values."""
    insert_activity_select(
        connection,
        env,
        source=select(env.person.c.id).where(changing),
        person_id=env.person.c.id,
        activity_type_id=StandardActivity.CHANGE_DATA_VALUE,
        primary_value=field.display_name,
        attributes={
            "Attribute Name": text_value(field.display_name),
            "Old Value": old,
            "New Value": new,
        },
    )


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
    count = cohort_size(connection, cohort, env.cohort_size)
    if not writes:
        return StepOutcome(executed=count)
    column = env.person.c[field.column]
    differs = [env.person.c.id.in_(cohort), column.is_distinct_from(value)]
    old = _stored_text(env, field)
    if old is not None:
        new = null() if value is None else literal(format_value(value), String)
        _insert_changes(connection, env, field, and_(*differs), old, new)
    else:
        old_values = connection.execute(
            select(env.person.c.id, column).where(*differs).order_by(env.person.c.id)
        ).all()
        _write(connection, env, field, [(row[0], row[1], value) for row in old_values])
    connection.execute(
        update(env.person).where(*differs).values({column: value, "updated_at": env.now})
    )
    return StepOutcome(executed=count)


def _apply_rendered(
    connection: Connection,
    env: StepEnv,
    field: FieldDef,
    rendered: ColumnElement[str],
    fixed: str,
    cohort: Select[Any],
) -> StepOutcome:
    """Person tokens rendered by SQL into a text field: set-based, as `_apply_per_person`.

    Blank text writes nothing, ``NULL`` clears (FLOW-13); only over-long values for
    string fields can fail, and those few are converted in Python for the message.
    """
    person = env.person
    column = person.c[field.column]
    members = person.c.id.in_(cohort)
    tests = _rendered_tests(connection, field, rendered, fixed)
    blank, new, too_long = tests.blank, tests.new, tests.too_long
    if env.flagged is not None and env.cohort_size is not None:
        # Both counted with the partition, in this transaction.
        size, failures = env.cohort_size, env.flagged
    else:
        # One pass counts the cohort and its failures; failing persons are rare and read
        # apart.
        size, failures = connection.execute(
            select(func.count(), func.count(case((too_long, 1)))).where(members)
        ).one()
    outcome = StepOutcome()
    if failures:
        failing = select(person.c.id, rendered).where(members, too_long).order_by(person.c.id)
        for person_id, text in connection.execute(failing):
            try:
                _convert(field, text, env)
            except ValueConversionError as error:
                message = f"{field.display_name}: {error}"
                outcome.errors.append(env.issue(INVALID_VALUE, message, person_id))
    outcome.executed = int(size) - len(outcome.errors)
    changing = and_(members, ~blank, ~too_long, column.is_distinct_from(new))
    old = _stored_text(env, field)
    assert old is not None  # a textual field
    _insert_changes(connection, env, field, changing, old, new)
    connection.execute(update(person).where(changing).values({column: new, "updated_at": env.now}))
    return outcome


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
