"""Static lists and their members (API-38, API-39)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection, delete, insert, select

from kampanj.api.envelope import (
    INVALID_REQUEST,
    LEAD_NOT_FOUND,
    OBJECT_NOT_FOUND,
    ApiError,
    Paging,
    Reply,
    skipped,
    success_body,
)
from kampanj.api.formats import lead_time, page_token, token_position
from kampanj.api.people import API_SOURCE
from kampanj.api.requests import (
    MAX_BATCH_SIZE,
    batch_size,
    body_object,
    comma_list,
    int_list,
    optional_json_body,
)
from kampanj.api.routes.leads import lead_json, wanted_fields
from kampanj.api.security import Caller, Reader, Writer
from kampanj.api.tree import Tree
from kampanj.api.triggers import offer_to_triggers
from kampanj.model.activities import StandardActivity
from kampanj.model.names import fold
from kampanj.store.activities_repo import activity_row, insert_activities
from kampanj.store.people_repo import existing_ids
from kampanj.store.registry import load_field_registry, person_table
from kampanj.store.schema import list_member, static_list

router = APIRouter(prefix="/rest/v1", tags=["lists"])
NOT_IN_LIST = "1015"


def _list_json(row: Any, tree: Tree) -> dict[str, Any]:
    program = tree.program_of(row.folder_id)
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "programName": program.name if program else None,
        "workspaceName": tree.workspaces[row.workspace_id],
        "createdAt": lead_time(row.created_at),
        "updatedAt": lead_time(row.updated_at),
    }


def _find_list(connection: Connection, caller: Caller, list_id: int) -> tuple[Any, Tree]:
    """The list and the tree; 1013 if unknown, 603 outside the caller's workspaces."""
    row = connection.execute(select(static_list).where(static_list.c.id == list_id)).first()
    if row is None:
        raise ApiError(OBJECT_NOT_FOUND, f"List {list_id} not found")
    tree = Tree(connection)
    caller.check_workspace(tree.workspaces[row.workspace_id], f"list {list_id}")
    return row, tree


@router.get("/lists.json")
def get_lists(
    caller: Reader,
    id: str | None = None,
    name: str | None = None,
    program_name: Annotated[str | None, Query(alias="programName")] = None,
    workspace_name: Annotated[str | None, Query(alias="workspaceName")] = None,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> dict[str, Any]:
    """Static lists of the caller's workspaces, by id (API-38)."""
    size = batch_size(batch)
    after = token_position(next_page_token, "lists")
    ids = set(int_list(id, "id"))
    names = {fold(n) for n in comma_list(name)}
    programs = {fold(n) for n in comma_list(program_name)}
    workspaces = {fold(n) for n in comma_list(workspace_name)}
    with caller.context.database.read() as connection:
        tree = Tree(connection)
        rows = connection.execute(
            select(static_list).where(static_list.c.id > after).order_by(static_list.c.id)
        ).all()
    items = []
    for row in rows:
        item = _list_json(row, tree)
        if not caller.user.reaches(item["workspaceName"]):
            continue
        if (ids and row.id not in ids) or (names and fold(row.name) not in names):
            continue
        if programs and fold(item["programName"] or "") not in programs:
            continue
        if workspaces and fold(item["workspaceName"]) not in workspaces:
            continue
        items.append(item)
    page = items[:size]
    more = len(items) > size
    token = page_token("lists", page[-1]["id"]) if more else None
    return success_body(Reply(result=page, paging=Paging(more=more, next_token=token)))


@router.get("/lists/{list_id:int}.json")
def get_list(caller: Reader, list_id: int) -> dict[str, Any]:
    """One static list (API-38)."""
    with caller.context.database.read() as connection:
        row, tree = _find_list(connection, caller, list_id)
    return success_body(Reply(result=[_list_json(row, tree)]))


def _lead_ids(request: Request, document: Any) -> list[int | None]:
    """Lead ids from ``?id=1&id=2`` or ``{"input":[{"id":1}]}``; at most 300 (API-39)."""
    raw: list[Any] = list(request.query_params.getlist("id"))
    body = body_object(document) if document else {}
    records = body.get("input") or []
    if not isinstance(records, list):
        raise ApiError(INVALID_REQUEST, "input must be an array of records")
    raw += [r.get("id") if isinstance(r, dict) else None for r in records]
    if not raw:
        raise ApiError("701", "id cannot be blank")
    if len(raw) > MAX_BATCH_SIZE:
        raise ApiError(INVALID_REQUEST, f"at most {MAX_BATCH_SIZE} leads per call")
    ids: list[int | None] = []
    for value in raw:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        ids.append(value if isinstance(value, int) and not isinstance(value, bool) else None)
    return ids


def _members(connection: Connection, list_id: int, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    statement = select(list_member.c.person_id).where(
        list_member.c.list_id == list_id, list_member.c.person_id.in_(ids)
    )
    return set(connection.execute(statement).scalars())


def _change_activity(person_id: int, row: Any, type_id: int, now: Any) -> dict[str, Any]:
    return activity_row(
        person_id=person_id,
        activity_type_id=type_id,
        activity_date=now,
        primary_attribute_value=row.name,
        primary_attribute_value_id=row.id,
        attributes={"Source": API_SOURCE},
    )


Write = Callable[[Connection, list[int], datetime], None]
"""Inserts or deletes the memberships of the given leads."""


def _change_membership(
    caller: Caller, request: Request, list_id: int, document: Any, *, adding: bool, write: Write
) -> dict[str, Any]:
    """Add or remove (API-39): items in input order, unknown leads skipped with 1004, a
    non-member skipped with 1015 on removal; each lead changes once, and only actual
    changes write Add to List (24) / Remove from List (25). Then triggers."""
    ids = _lead_ids(request, document)
    now = caller.context.clock.now()
    result: list[dict[str, Any]] = []
    with caller.context.database.begin() as connection:
        row, _ = _find_list(connection, caller, list_id)
        known_ids = [i for i in ids if i is not None]
        known = existing_ids(connection, known_ids)
        members = _members(connection, list_id, known_ids)
        changing: list[int] = []
        for person_id in ids:
            if person_id is None or person_id not in known:
                result.append(skipped(LEAD_NOT_FOUND, "Lead not found", id=person_id))
            elif adding:
                result.append({"id": person_id, "status": "added"})
                if person_id not in members and person_id not in changing:
                    changing.append(person_id)
            elif person_id not in members or person_id in changing:
                result.append(skipped(NOT_IN_LIST, "Lead not in list", id=person_id))
            else:
                result.append({"id": person_id, "status": "removed"})
                changing.append(person_id)
        if changing:
            write(connection, changing, now)
            kind = StandardActivity.ADD_TO_LIST if adding else StandardActivity.REMOVE_FROM_LIST
            insert_activities(connection, [_change_activity(p, row, kind, now) for p in changing])
    offer_to_triggers(caller.context)
    return success_body(Reply(result=result))


@router.post("/lists/{list_id:int}/leads.json")
def add_to_list(
    caller: Writer,
    request: Request,
    list_id: int,
    document: Annotated[Any, Depends(optional_json_body)],
) -> dict[str, Any]:
    """Add leads to a static list; only new members get Add to List (24) (API-39)."""

    def insert_members(connection: Connection, joining: list[int], now: datetime) -> None:
        connection.execute(
            insert(list_member),
            [{"list_id": list_id, "person_id": p, "added_at": now} for p in joining],
        )

    return _change_membership(caller, request, list_id, document, adding=True, write=insert_members)


@router.delete("/lists/{list_id:int}/leads.json")
def remove_from_list(
    caller: Writer,
    request: Request,
    list_id: int,
    document: Annotated[Any, Depends(optional_json_body)],
) -> dict[str, Any]:
    """Remove leads from a static list with Remove from List (25) (API-39)."""

    def delete_members(connection: Connection, leaving: list[int], _now: datetime) -> None:
        connection.execute(
            delete(list_member).where(
                list_member.c.list_id == list_id, list_member.c.person_id.in_(leaving)
            )
        )

    return _change_membership(
        caller, request, list_id, document, adding=False, write=delete_members
    )


@router.get("/lists/{list_id:int}/leads.json")
def list_members(
    caller: Reader,
    list_id: int,
    fields: str | None = None,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> dict[str, Any]:
    """Members of a static list by lead id, paged (API-39)."""
    size = batch_size(batch)
    after = token_position(next_page_token, "members")
    with caller.context.database.read() as connection:
        _find_list(connection, caller, list_id)
        registry = load_field_registry(connection)
        selected = wanted_fields(registry, fields)
        table = person_table(registry)
        rows = list(
            connection.execute(
                select(table)
                .join(list_member, list_member.c.person_id == table.c.id)
                .where(list_member.c.list_id == list_id, table.c.id > after)
                .order_by(table.c.id)
                .limit(size + 1)
            ).mappings()
        )
    page = rows[:size]
    more = len(rows) > size
    token = page_token("members", page[-1]["id"]) if more else None
    return success_body(
        Reply(
            result=[lead_json(r, selected) for r in page],
            paging=Paging(more=more, next_token=token),
        )
    )


@router.get("/lists/{list_id:int}/leads/ismember.json")
def is_member(caller: Reader, request: Request, list_id: int) -> dict[str, Any]:
    """Whether each lead is in the list: memberof / notmemberof (API-39)."""
    ids = _lead_ids(request, None)
    with caller.context.database.read() as connection:
        _find_list(connection, caller, list_id)
        known_ids = [i for i in ids if i is not None]
        known = existing_ids(connection, known_ids)
        members = _members(connection, list_id, known_ids)
    result = [
        {"id": p, "status": "memberof" if p in members else "notmemberof"}
        if p is not None and p in known
        else skipped(LEAD_NOT_FOUND, "Lead not found", id=p)
        for p in ids
    ]
    return success_body(Reply(result=result))
