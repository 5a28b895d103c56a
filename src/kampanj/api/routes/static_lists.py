"""Static lists in the Asset API: browse, get, by name, create, update (API-38)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection, select, update

from kampanj.api.asset_params import (
    folder_filter,
    page,
    reply,
    target_folder,
    updated_between,
    window,
)
from kampanj.api.asset_views import base_url, folder_ref
from kampanj.api.envelope import BLANK, BUSINESS_RULE, NO_ASSET, ApiError, Reply, success_body
from kampanj.api.formats import asset_time
from kampanj.api.requests import json_or_form_body
from kampanj.api.security import Caller, Reader, Writer
from kampanj.api.tree import Tree
from kampanj.api.validation import refuse_new_errors
from kampanj.clock import FixedClock
from kampanj.model.account import Definitions
from kampanj.model.names import fold
from kampanj.model.smartlists import StaticList
from kampanj.store.definitions_repo import apply_definitions, read_definitions
from kampanj.store.schema import static_list

router = APIRouter(prefix="/rest/asset/v1", tags=["assets"])


def _record(row: Any, tree: Tree, url: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "folder": folder_ref(tree.folders[row.folder_id]),
        "workspace": tree.workspaces[row.workspace_id],
        "computedUrl": f"{url.rstrip('/')}/#ST{row.id}A1",
        "createdAt": asset_time(row.created_at),
        "updatedAt": asset_time(row.updated_at),
    }


def _rows(caller: Caller) -> tuple[list[Any], Tree, str]:
    with caller.context.database.read() as connection:
        rows = list(connection.execute(select(static_list).order_by(static_list.c.id)))
        return rows, Tree(connection), base_url(connection)


@router.get("/staticLists.json")
def get_static_lists(
    caller: Reader,
    folder: str | None = None,
    earliest: Annotated[str | None, Query(alias="earliestUpdatedAt")] = None,
    latest: Annotated[str | None, Query(alias="latestUpdatedAt")] = None,
    max_return: Annotated[str | None, Query(alias="maxReturn")] = None,
    offset: str | None = None,
) -> dict[str, Any]:
    """Static lists of the caller's workspaces, by id (API-38)."""
    size, start = window(max_return, offset)
    in_window = updated_between(earliest, latest)
    rows, tree, url = _rows(caller)
    beneath = folder_filter(tree, folder)
    chosen = [
        _record(r, tree, url)
        for r in rows
        if caller.user.reaches(tree.workspaces[r.workspace_id])
        and in_window(r.updated_at)
        and (beneath is None or r.folder_id in beneath)
    ]
    return reply(page(chosen, size, start))


@router.get("/staticList/byName.json")
def static_list_by_name(caller: Reader, name: str | None = None) -> dict[str, Any]:
    """Static lists with exactly this name, any case (API-38)."""
    if not name:
        raise ApiError(BLANK, "name cannot be blank")
    rows, tree, url = _rows(caller)
    return reply(
        [
            _record(r, tree, url)
            for r in rows
            if fold(r.name) == fold(name) and caller.user.reaches(tree.workspaces[r.workspace_id])
        ]
    )


@router.get("/staticList/{list_id:int}.json")
def get_static_list(caller: Reader, list_id: int) -> dict[str, Any]:
    """One static list (API-38)."""
    rows, tree, url = _rows(caller)
    row = next((r for r in rows if r.id == list_id), None)
    if row is None:
        return reply([])
    caller.check_workspace(tree.workspaces[row.workspace_id], f"static list {list_id}")
    return reply([_record(row, tree, url)])


def _one(connection: Connection, caller: Caller, list_id: int) -> dict[str, Any]:
    row = connection.execute(select(static_list).where(static_list.c.id == list_id)).one()
    return success_body(Reply(result=[_record(row, Tree(connection), base_url(connection))]))


def _check_unique(stored: Definitions, item: StaticList, ignore_id: int | None = None) -> None:
    """Static list names are unique in their workspace (references name them)."""
    for other in stored.static_lists:
        same = fold(other.workspace) == fold(item.workspace) and fold(other.name) == fold(item.name)
        if same and other.id != ignore_id:
            raise ApiError(BUSINESS_RULE, f"A static list named {other.name!r} already exists")


@router.post("/staticLists.json")
def create_static_list(
    caller: Writer, body: Annotated[dict[str, Any], Depends(json_or_form_body)]
) -> dict[str, Any]:
    """Create a static list in a folder or program (API-38)."""
    name = str(body.get("name") or "").strip()
    if not name:
        raise ApiError(BLANK, "name cannot be blank")
    now = caller.context.clock.now()
    with caller.context.database.begin() as connection:
        workspace, path = target_folder(connection, caller, body.get("folder"))
        item = StaticList(
            workspace=workspace,
            folder=path,
            name=name,
            description=str(body.get("description") or ""),
        )
        stored = read_definitions(connection)
        _check_unique(stored, item)
        apply_definitions(connection, Definitions(static_lists=(item,)), clock=FixedClock(now))
        known = {s.id for s in stored.static_lists}
        new_id = next(
            r.id
            for r in connection.execute(select(static_list.c.id, static_list.c.name))
            if r.id not in known and fold(r.name) == fold(name)
        )
        return _one(connection, caller, int(new_id))


@router.post("/staticList/{list_id:int}.json")
def update_static_list(
    caller: Writer,
    list_id: int,
    body: Annotated[dict[str, Any], Depends(json_or_form_body)],
) -> dict[str, Any]:
    """Change a static list's name or description (API-38); refused if a reference breaks."""
    with caller.context.database.begin() as connection:
        stored = read_definitions(connection)
        item = next((s for s in stored.static_lists if s.id == list_id), None)
        if item is None:
            raise ApiError(NO_ASSET, f"Static list {list_id} not found")
        caller.check_workspace(item.workspace, f"static list {list_id}")
        changed = replace(
            item,
            name=str(body.get("name") or item.name).strip(),
            description=str(body.get("description", item.description) or ""),
        )
        _check_unique(stored, changed, ignore_id=list_id)
        lists = tuple(changed if s.id == list_id else s for s in stored.static_lists)
        refuse_new_errors(stored, replace(stored, static_lists=lists))
        connection.execute(
            update(static_list)
            .where(static_list.c.id == list_id)
            .values(
                name=changed.name,
                description=changed.description,
                updated_at=caller.context.clock.now(),
            )
        )
        return _one(connection, caller, list_id)
