"""Campaigns in the Lead Database API: list and get (API-14, API-15)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from kampanj.api.campaign_views import is_requestable, lead_database_json, load_campaigns
from kampanj.api.envelope import OBJECT_NOT_FOUND, ApiError, Paging, Reply, success_body
from kampanj.api.formats import decode_token, encode_token
from kampanj.api.requests import batch_size, comma_list, flag, int_list
from kampanj.api.security import Reader
from kampanj.api.tree import Tree
from kampanj.model.names import fold

router = APIRouter(prefix="/rest/v1", tags=["campaigns"])


@router.get("/campaigns.json")
def get_campaigns(
    caller: Reader,
    id: str | None = None,
    name: str | None = None,
    program_name: Annotated[str | None, Query(alias="programName")] = None,
    workspace_name: Annotated[str | None, Query(alias="workspaceName")] = None,
    is_triggerable: Annotated[str | None, Query(alias="isTriggerable")] = None,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> dict[str, Any]:
    """Campaigns of the caller's workspaces by id, filtered (API-14)."""
    size = batch_size(batch)
    after = int(decode_token(next_page_token, "campaigns").get("a", 0)) if next_page_token else 0
    ids = set(int_list(id, "id"))
    names = {fold(n) for n in comma_list(name)}
    programs = {fold(n) for n in comma_list(program_name)}
    workspaces = {fold(n) for n in comma_list(workspace_name)}
    triggerable = flag(is_triggerable, "isTriggerable")
    with caller.context.database.read() as connection:
        views = load_campaigns(connection, caller.context.clock.now())
        tree = Tree(connection)
    items = []
    for view in views:
        item = view.campaign
        assert item.id is not None
        if item.id <= after or not caller.user.reaches(view.workspace):
            continue
        record = lead_database_json(view, tree)
        if (ids and item.id not in ids) or (names and fold(item.name) not in names):
            continue
        if programs and fold(record["programName"] or "") not in programs:
            continue
        if workspaces and fold(view.workspace) not in workspaces:
            continue
        if triggerable and not is_requestable(item):
            continue
        items.append(record)
    page = items[:size]
    more = len(items) > size
    token = encode_token({"k": "campaigns", "a": page[-1]["id"]}) if more else None
    return success_body(Reply(result=page, paging=Paging(more=more, next_token=token)))


@router.get("/campaigns/{campaign_id:int}.json")
def get_campaign(caller: Reader, campaign_id: int) -> dict[str, Any]:
    """One campaign; unknown → 1013, another workspace → 603 (API-15, WS-5)."""
    with caller.context.database.read() as connection:
        views = load_campaigns(connection, caller.context.clock.now())
        tree = Tree(connection)
    view = next((v for v in views if v.campaign.id == campaign_id), None)
    if view is None:
        raise ApiError(OBJECT_NOT_FOUND, f"Campaign {campaign_id} not found")
    caller.check_workspace(view.workspace, f"campaign {campaign_id}")
    return success_body(Reply(result=[lead_database_json(view, tree)]))
