"""Add to List / Remove from List (FLOW-23): pure SQL, 24 / 25 only when membership changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, delete, exists, literal, select

from kampanj.engine.steps.base import (
    StepEnv,
    StepOutcome,
    cohort_size,
    every_person_fails,
    insert_activity_select,
    insert_new,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import ParamValue
from kampanj.smartlist.context import InvalidSmartList
from kampanj.store.schema import list_member, static_list

UNKNOWN_LIST = "INVALID_LIST"


def _list(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue]
) -> tuple[int, str] | None:
    name = str(params.get("list") or "")
    try:
        list_id = env.references.static_list(env.campaign.workspace, name)
    except InvalidSmartList:
        return None
    stored = connection.execute(select(static_list.c.name).where(static_list.c.id == list_id))
    return list_id, str(stored.scalar_one())


def _member(list_id: int, person_id: Any) -> Any:
    return exists().where(list_member.c.list_id == list_id, list_member.c.person_id == person_id)


def add(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    found = _list(connection, env, params)
    if found is None:
        return every_person_fails(
            connection, env, cohort, UNKNOWN_LIST, f"there is no static list {params.get('list')!r}"
        )
    list_id, name = found
    ids = cohort.subquery("cohort")
    joining = select(ids.c.person_id).where(~_member(list_id, ids.c.person_id))
    insert_activity_select(
        connection,
        env,
        source=joining,
        person_id=ids.c.person_id,
        activity_type_id=StandardActivity.ADD_TO_LIST,
        primary_value=name,
        primary_id=list_id,
        attributes={},
    )
    insert_new(
        connection,
        list_member,
        ["list_id", "person_id", "added_at"],
        select(
            literal(list_id).label("list_id"),
            ids.c.person_id,
            literal(env.now, list_member.c.added_at.type).label("added_at"),
        ),
    )
    return StepOutcome(executed=cohort_size(connection, cohort, env.cohort_size))


def remove(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    found = _list(connection, env, params)
    if found is None:
        return every_person_fails(
            connection, env, cohort, UNKNOWN_LIST, f"there is no static list {params.get('list')!r}"
        )
    list_id, name = found
    ids = cohort.subquery("cohort")
    insert_activity_select(
        connection,
        env,
        source=select(ids.c.person_id).where(_member(list_id, ids.c.person_id)),
        person_id=ids.c.person_id,
        activity_type_id=StandardActivity.REMOVE_FROM_LIST,
        primary_value=name,
        primary_id=list_id,
        attributes={},
    )
    connection.execute(
        delete(list_member).where(
            list_member.c.list_id == list_id, list_member.c.person_id.in_(cohort)
        )
    )
    return StepOutcome(executed=cohort_size(connection, cohort, env.cohort_size))
