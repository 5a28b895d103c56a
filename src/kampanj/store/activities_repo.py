"""Activities as stored: bulk appends and `Activity` objects at the edge (ACT-1, ACT-2)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, Connection, Integer, RowMapping, bindparam, func, insert, select

from kampanj.model.activities import Activity
from kampanj.store.bulk import bulk_insert
from kampanj.store.schema import activity

ACTIVITY_COLUMNS = (
    "person_id",
    "activity_type_id",
    "activity_date",
    "campaign_id",
    "run_id",
    "primary_attribute_value_id",
    "primary_attribute_value",
    "attributes",
)
"""Keys of every row given to `insert_activities` (ids are assigned by the database)."""


def insert_activities(
    connection: Connection,
    rows: Sequence[Mapping[str, Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Append activities in the given order; their ids ascend in that order (ACT-2).

    Every row has the same keys; ``constants`` holds the columns shared by all rows.
    """
    if not rows:
        return
    columns = list(rows[0])
    pick = itemgetter(*columns)
    values = [pick(row) for row in rows] if len(columns) > 1 else [(pick(r),) for r in rows]
    bulk_insert(connection, activity, columns, values, constants)


def insert_activity_per_person(
    connection: Connection, person_ids: Sequence[int], constants: Mapping[str, Any]
) -> None:
    """Append one activity per person in ``person_ids`` (ascending), all columns but
    ``person_id`` taken from ``constants``, as one set-based INSERT … SELECT.

    The engine writes the same activity for a whole cohort this way; imports use it for
    New Lead (ACT-7). Activity ids ascend with ``person_ids`` (ACT-2).
    """
    if not person_ids:
        return
    ids = _person_id_source(connection, person_ids)
    values = {
        name: bindparam(f"c_{name}", value, type_=activity.c[name].type)
        for name, value in constants.items()
    }
    selected = select(ids.c.person_id, *(v.label(n) for n, v in values.items())).order_by(
        ids.c.person_id
    )
    connection.execute(insert(activity).from_select(["person_id", *values], selected))


def _person_id_source(connection: Connection, person_ids: Sequence[int]) -> Any:
    """A one-column (``person_id``) selectable over ``person_ids``, bound as one parameter."""
    if connection.dialect.name == "postgresql":
        return (
            func.unnest(bindparam("person_ids", list(person_ids), type_=ARRAY(Integer)))
            .table_valued("person_id")
            .render_derived(name="ids")
        )
    each = func.json_each(bindparam("person_ids", json.dumps(list(person_ids)))).table_valued(
        "value"
    )
    return select(each.c.value.label("person_id")).subquery("ids")


def activity_row(
    *,
    person_id: int,
    activity_type_id: int,
    activity_date: Any,
    attributes: Mapping[str, object],
    primary_attribute_value: str | None = None,
    primary_attribute_value_id: int | None = None,
    campaign_id: int | None = None,
    run_id: int | None = None,
) -> dict[str, Any]:
    """One row for `insert_activities`; empty attributes are dropped (ACT-1)."""
    return {
        "person_id": person_id,
        "activity_type_id": activity_type_id,
        "activity_date": activity_date,
        "campaign_id": campaign_id,
        "run_id": run_id,
        "primary_attribute_value_id": primary_attribute_value_id,
        "primary_attribute_value": primary_attribute_value,
        "attributes": {k: v for k, v in attributes.items() if v is not None and v != ""},
    }


def activity_from_row(row: RowMapping) -> Activity:
    return Activity(
        id=row["id"],
        person_id=row["person_id"],
        activity_type_id=row["activity_type_id"],
        activity_date=row["activity_date"],
        campaign_id=row["campaign_id"],
        run_id=row["run_id"],
        primary_attribute_value_id=row["primary_attribute_value_id"],
        primary_attribute_value=row["primary_attribute_value"],
        attributes=dict(row["attributes"] or {}),
    )


def activities_for_person(
    connection: Connection, person_id: int, limit: int | None = None
) -> list[Activity]:
    """A person's activities, newest first (ties: highest id first)."""
    statement = (
        select(activity)
        .where(activity.c.person_id == person_id)
        .order_by(activity.c.activity_date.desc(), activity.c.id.desc())
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [activity_from_row(row) for row in connection.execute(statement).mappings()]
