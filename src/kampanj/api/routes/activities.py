"""Activities: types, paging tokens, activities by type, lead changes, deleted leads
(API-34..37, ACT-1, ACT-8)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, and_, func, or_, select

from kampanj.api.envelope import (
    BLANK,
    INVALID_REQUEST,
    OBJECT_NOT_FOUND,
    ApiError,
    Paging,
    Reply,
    success_body,
)
from kampanj.api.formats import decode_token, encode_token, lead_time, parse_instant
from kampanj.api.requests import batch_size, comma_list, int_list
from kampanj.api.routes.describe import field_numbers
from kampanj.api.security import Caller, Reader
from kampanj.api.tree import Tree
from kampanj.model.activities import ActivityTypeDef, StandardActivity
from kampanj.store.registry import load_activity_types, load_field_registry
from kampanj.store.schema import activity, list_member, static_list

router = APIRouter(tags=["activities"])
_BASE = "/rest/v1/activities"
MAX_TYPE_IDS = 10  # LIM-6
MAX_LEAD_IDS = 30  # LIM-6
_TOKEN = "activities"


def _type_json(t: ActivityTypeDef) -> dict[str, Any]:
    item: dict[str, Any] = {"id": t.id, "name": t.name, "description": t.description}
    if t.primary is not None:
        item["primaryAttribute"] = {"name": t.primary.name, "dataType": t.primary.data_type.value}
    item["attributes"] = [{"name": a.name, "dataType": a.data_type.value} for a in t.attributes]
    return item


@router.get(_BASE + "/types.json")
def activity_types(caller: Reader) -> dict[str, Any]:
    """Every standard and custom activity type (API-34)."""
    with caller.context.database.read() as connection:
        types = list(load_activity_types(connection))
    return success_body(Reply(result=[_type_json(t) for t in types]))


@router.get(_BASE + "/pagingtoken.json")
def paging_token(
    caller: Reader, since: Annotated[str | None, Query(alias="sinceDatetime")] = None
) -> dict[str, Any]:
    """A token positioned at the first activity dated at or after ``sinceDatetime`` (API-35)."""
    if not since:
        raise ApiError(BLANK, "sinceDatetime cannot be blank")
    instant = parse_instant(since, "sinceDatetime")
    with caller.context.database.read() as connection:
        first = connection.execute(
            select(func.min(activity.c.id)).where(activity.c.activity_date >= instant)
        ).scalar()
        if first is None:
            first = (connection.execute(select(func.max(activity.c.id))).scalar() or 0) + 1
    token = encode_token({"k": _TOKEN, "a": int(first) - 1, "s": instant.isoformat()})
    return success_body(Reply(result=[], omit_result=True, extra={"nextPageToken": token}))


def _position(token: str | None) -> tuple[int, datetime | None]:
    if not token:
        raise ApiError(BLANK, "nextPageToken cannot be blank")
    state = decode_token(token, _TOKEN)
    after, since = state.get("a"), state.get("s")
    if isinstance(after, bool) or not isinstance(after, int) or after < -1:
        raise ApiError(INVALID_REQUEST, f"Invalid nextPageToken {token!r}")
    if since is None:
        return after, None
    try:
        return after, parse_instant(str(since), "nextPageToken")
    except ApiError:
        raise ApiError(INVALID_REQUEST, f"Invalid nextPageToken {token!r}") from None


def _retained(types: Sequence[ActivityTypeDef], now: datetime) -> ColumnElement[bool]:
    """Activities of ``types`` still within their retention (ACT-8)."""
    clauses = []
    for t in types:
        clause: ColumnElement[bool] = activity.c.activity_type_id == t.id
        if t.retention_days is not None:
            clause = and_(clause, activity.c.activity_date >= now - timedelta(t.retention_days))
        clauses.append(clause)
    return or_(*clauses)


def _activity_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "marketoGUID": str(row.id),
        "leadId": row.person_id,
        "activityDate": lead_time(row.activity_date),
        "activityTypeId": row.activity_type_id,
        "campaignId": row.campaign_id,
        "runId": row.run_id,
        "primaryAttributeValueId": row.primary_attribute_value_id,
        "primaryAttributeValue": row.primary_attribute_value,
        "attributes": [{"name": k, "value": v} for k, v in (row.attributes or {}).items()],
    }


def _page(
    caller: Caller,
    token: str | None,
    size: int,
    types: Sequence[ActivityTypeDef],
    *conditions: ColumnElement[bool],
) -> tuple[list[Any], Paging]:
    """Retained activities after the token's position, in id order (API-36)."""
    after, since = _position(token)
    now = caller.context.clock.now()
    where = [activity.c.id > after, _retained(types, now), *conditions]
    if since is not None:
        where.append(activity.c.activity_date >= since)
    with caller.context.database.read() as connection:
        rows = connection.execute(
            select(activity).where(*where).order_by(activity.c.id).limit(size + 1)
        ).all()
    page = list(rows[:size])
    more = len(rows) > size
    last = page[-1].id if page else after
    state: dict[str, Any] = {"k": _TOKEN, "a": last}
    if since is not None:
        state["s"] = since.isoformat()
    return page, Paging(more=more, next_token=encode_token(state))


def _types(caller: Caller, ids: Sequence[int]) -> list[ActivityTypeDef]:
    with caller.context.database.read() as connection:
        registry = load_activity_types(connection)
    found = []
    for type_id in ids:
        t = registry.by_id(type_id)
        if t is None:
            raise ApiError(INVALID_REQUEST, f"Activity type {type_id} does not exist")
        found.append(t)
    return found


@router.get(_BASE + ".json")
def get_activities(
    caller: Reader,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
    activity_type_ids: Annotated[str | None, Query(alias="activityTypeIds")] = None,
    list_id: Annotated[str | None, Query(alias="listId")] = None,
    lead_ids: Annotated[str | None, Query(alias="leadIds")] = None,
    asset_ids: Annotated[str | None, Query(alias="assetIds")] = None,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
) -> dict[str, Any]:
    """Activities of up to 10 types, optionally for some leads, a list or assets (API-36)."""
    if not next_page_token:
        raise ApiError(BLANK, "nextPageToken cannot be blank")
    type_ids = int_list(activity_type_ids, "activityTypeIds")
    if not type_ids:
        raise ApiError(BLANK, "activityTypeIds cannot be blank")
    if len(type_ids) > MAX_TYPE_IDS:
        raise ApiError(INVALID_REQUEST, f"at most {MAX_TYPE_IDS} activityTypeIds are allowed")
    leads = int_list(lead_ids, "leadIds")
    if len(leads) > MAX_LEAD_IDS:
        raise ApiError(INVALID_REQUEST, f"at most {MAX_LEAD_IDS} leadIds are allowed")
    assets = int_list(asset_ids, "assetIds")
    if assets and len(type_ids) != 1:
        raise ApiError(INVALID_REQUEST, "assetIds needs exactly one activityTypeIds value")
    size = batch_size(batch)
    types = _types(caller, type_ids)
    conditions: list[ColumnElement[bool]] = []
    if leads:
        conditions.append(activity.c.person_id.in_(leads))
    if assets:
        conditions.append(activity.c.primary_attribute_value_id.in_(assets))
    if list_id:
        (wanted,) = int_list(list_id, "listId")[:1] or [0]
        _check_list(caller, wanted)
        members = select(list_member.c.person_id).where(list_member.c.list_id == wanted)
        conditions.append(activity.c.person_id.in_(members))
    rows, paging = _page(caller, next_page_token, size, types, *conditions)
    return success_body(Reply(result=[_activity_json(r) for r in rows], paging=paging))


def _check_list(caller: Caller, list_id: int) -> None:
    with caller.context.database.read() as connection:
        row = connection.execute(select(static_list).where(static_list.c.id == list_id)).first()
        if row is None:
            raise ApiError(OBJECT_NOT_FOUND, f"List {list_id} not found")
        tree = Tree(connection)
    caller.check_workspace(tree.workspaces[row.workspace_id], f"list {list_id}")


@router.get(_BASE + "/leadchanges.json")
def lead_changes(
    caller: Reader,
    fields: str | None = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
    list_id: Annotated[str | None, Query(alias="listId")] = None,
    lead_ids: Annotated[str | None, Query(alias="leadIds")] = None,
) -> dict[str, Any]:
    """New Lead and Change Data Value activities touching ``fields`` (API-37)."""
    names = comma_list(fields)
    if not names:
        raise ApiError(BLANK, "fields cannot be blank")
    size = batch_size(batch)
    with caller.context.database.read() as connection:
        registry = load_field_registry(connection)
    numbers = field_numbers(registry)
    watched = {}
    for name in names:
        field = registry.get(name)
        if field is None:
            raise ApiError("1006", f"Field '{name}' not found")
        watched[field.display_name] = field
    types = _types(caller, [StandardActivity.NEW_LEAD, StandardActivity.CHANGE_DATA_VALUE])
    conditions: list[ColumnElement[bool]] = [
        or_(
            activity.c.activity_type_id == StandardActivity.NEW_LEAD,
            activity.c.primary_attribute_value.in_(list(watched)),
        )
    ]
    leads = int_list(lead_ids, "leadIds")
    if leads:
        conditions.append(activity.c.person_id.in_(leads))
    if list_id:
        (wanted,) = int_list(list_id, "listId")[:1] or [0]
        _check_list(caller, wanted)
        members = select(list_member.c.person_id).where(list_member.c.list_id == wanted)
        conditions.append(activity.c.person_id.in_(members))
    rows, paging = _page(caller, next_page_token, size, types, *conditions)
    result = []
    for row in rows:
        item = _activity_json(row)
        changed = []
        if row.activity_type_id == StandardActivity.CHANGE_DATA_VALUE:
            field = watched[row.primary_attribute_value]
            attributes = row.attributes or {}
            changed.append(
                {
                    "id": numbers[field.name],
                    "name": field.name,
                    "newValue": attributes.get("New Value"),
                    "oldValue": attributes.get("Old Value"),
                }
            )
        item["fields"] = changed
        result.append(item)
    return success_body(Reply(result=result, paging=paging))


@router.get(_BASE + "/deletedleads.json")
def deleted_leads(
    caller: Reader,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
) -> dict[str, Any]:
    """Delete Lead activities (API-37)."""
    size = batch_size(batch)
    types = _types(caller, [StandardActivity.DELETE_LEAD])
    rows, paging = _page(caller, next_page_token, size, types)
    return success_body(Reply(result=[_activity_json(r) for r in rows], paging=paging))
