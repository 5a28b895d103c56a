"""Change Score (FLOW-16, FLOW-17): the change grammar, clamping, 22 always."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    case,
    func,
    literal,
    select,
    update,
)

from kampanj.engine.steps.base import (
    StepEnv,
    StepOutcome,
    as_text,
    every_person_fails,
    insert_activity_rows,
    insert_activity_select,
    person_rows,
    text_value,
    update_each,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import ParamValue
from kampanj.model.fields import SCORE_MAX, SCORE_MIN, FieldDef, FieldType
from kampanj.model.score_change import ScoreChange, clamp, parse_change

INVALID_CHANGE = "INVALID_CHANGE"  # FLOW-16
SCORE_CLAMPED = "SCORE_CLAMPED"  # FLOW-17


def apply(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    name = str(params.get("scoreName") or "")
    field = env.fields.get(name)
    if field is None or field.data_type is not FieldType.SCORE:
        return every_person_fails(
            connection, env, cohort, INVALID_CHANGE, f"{name!r} is not a score field"
        )
    template = env.template(params.get("change"))
    if template.is_constant:
        change = parse_change(template.constant())
        if change is None:
            return every_person_fails(
                connection, env, cohort, INVALID_CHANGE, _bad_change(template.constant())
            )
        return _apply_constant(connection, env, field, change, cohort)
    return _apply_per_person(connection, env, field, template, cohort)


def flagged(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue]
) -> ColumnElement[bool] | None:
    """The persons a constant change clamps (FLOW-17), over ``person`` columns; None when
    the step takes another path. The cohort engine counts them with its partition, so a
    step that clamps nobody reads its cohort once less."""
    field = env.fields.get(str(params.get("scoreName") or ""))
    if field is None or field.data_type is not FieldType.SCORE:
        return None
    template = env.template(params.get("change"))
    if not template.is_constant:
        return None
    change = parse_change(template.constant())
    if change is None:
        return None
    return _out_of_range(_raw(env, field, change))


def _raw(env: StepEnv, field: FieldDef, change: ScoreChange) -> ColumnElement[Any]:
    """The unclamped new score in SQL."""
    amount = literal(change.amount, BigInteger)
    return amount if change.sets else func.coalesce(env.person.c[field.column], 0) + amount


def _out_of_range(raw: ColumnElement[Any]) -> ColumnElement[bool]:
    return (raw > SCORE_MAX) | (raw < SCORE_MIN)


def _bad_change(text: str) -> str:
    return f"{text!r} is not a score change; write +N, -N, N, =N or =-N (FLOW-16)"


def _clamped(env: StepEnv, person_id: int, raw: int) -> Any:
    return env.issue(
        SCORE_CLAMPED,
        f"score {raw} is outside {SCORE_MIN}..{SCORE_MAX}; stored {clamp(raw)} (FLOW-17)",
        person_id,
    )


def _apply_constant(
    connection: Connection, env: StepEnv, field: FieldDef, change: ScoreChange, cohort: Select[Any]
) -> StepOutcome:
    """Pure SQL: activities from the old scores, then one UPDATE (FLOW-17)."""
    column = env.person.c[field.column]
    old = func.coalesce(column, 0)
    raw = _raw(env, field, change)
    new = case((raw > SCORE_MAX, SCORE_MAX), (raw < SCORE_MIN, SCORE_MIN), else_=raw)
    members = env.person.c.id.in_(cohort)
    outcome = StepOutcome()
    if env.flagged != 0:  # not counted, or someone is clamped
        outcome.warnings.extend(
            _clamped(env, person_id, int(value))
            for person_id, value in connection.execute(
                select(env.person.c.id, raw)
                .where(members, _out_of_range(raw))
                .order_by(env.person.c.id)
            )
        )
    insert_activity_select(
        connection,
        env,
        source=select(env.person.c.id).where(members),
        person_id=env.person.c.id,
        activity_type_id=StandardActivity.CHANGE_SCORE,
        primary_value=field.display_name,
        attributes={
            "Score Name": text_value(field.display_name),
            "Change Value": text_value(change.text),
            "Old Value": as_text(old),
            "New Value": as_text(new),
        },
    )
    result = connection.execute(
        update(env.person).where(members).values({column: new, "updated_at": env.now})
    )
    outcome.executed = int(result.rowcount)
    return outcome


def _apply_per_person(
    connection: Connection, env: StepEnv, field: FieldDef, template: Any, cohort: Select[Any]
) -> StepOutcome:
    """Person tokens in the change: render in bulk, parse each, apply in bulk."""
    rows = person_rows(connection, env, cohort, [field.column, *template.person_columns])
    outcome = StepOutcome()
    activities: list[tuple[int, Mapping[str, object]]] = []
    values: list[tuple[int, int]] = []
    for row, text in zip(rows, template.render_many(rows), strict=True):
        person_id = row["id"]
        change = parse_change(text)
        if change is None:
            outcome.errors.append(env.issue(INVALID_CHANGE, _bad_change(text), person_id))
            continue
        old = row[field.column] or 0
        raw = change.raw(old)
        new = clamp(raw)
        if new != raw:
            outcome.warnings.append(_clamped(env, person_id, raw))
        activities.append(
            (
                person_id,
                {
                    "Score Name": field.display_name,
                    "Change Value": change.text,
                    "Old Value": str(old),
                    "New Value": str(new),
                },
            )
        )
        values.append((person_id, new))
    insert_activity_rows(
        connection,
        env,
        activities,
        activity_type_id=StandardActivity.CHANGE_SCORE,
        primary_value=field.display_name,
    )
    update_each(connection, env, field.column, values)
    outcome.executed = len(values)
    return outcome
