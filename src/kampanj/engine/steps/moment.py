"""Interesting Moment (FLOW-23): always writes 46; the description may hold tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, func, select

from kampanj.engine.steps.base import (
    StepEnv,
    StepOutcome,
    cohort_size,
    insert_activity_rows,
    insert_activity_select,
    person_rows,
    text_value,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import ParamValue


def apply(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    kind = str(params.get("type") or "")
    template = env.template(params.get("description"))
    if template.is_constant:
        ids = cohort.subquery("cohort")
        insert_activity_select(
            connection,
            env,
            source=select(ids.c.person_id),
            person_id=ids.c.person_id,
            activity_type_id=StandardActivity.INTERESTING_MOMENT,
            primary_value=kind,
            attributes={"Description": text_value(template.constant())},
        )
        return StepOutcome(executed=cohort_size(connection, cohort, env.cohort_size))
    rendered = template.sql_text(env.person)
    if rendered is not None:
        members = select(env.person.c.id).where(env.person.c.id.in_(cohort))
        insert_activity_select(
            connection,
            env,
            source=members,
            person_id=env.person.c.id,
            activity_type_id=StandardActivity.INTERESTING_MOMENT,
            primary_value=kind,
            # ACT-1: an empty description is left out, as in the rows written in Python.
            attributes={"Description": func.nullif(rendered, "")},
        )
        return StepOutcome(executed=cohort_size(connection, cohort, env.cohort_size))
    rows = person_rows(connection, env, cohort, sorted(template.person_columns))
    texts = template.render_many(rows)
    insert_activity_rows(
        connection,
        env,
        [(row["id"], {"Description": text}) for row, text in zip(rows, texts, strict=True)],
        activity_type_id=StandardActivity.INTERESTING_MOMENT,
        primary_value=kind,
    )
    return StepOutcome(executed=len(rows))
