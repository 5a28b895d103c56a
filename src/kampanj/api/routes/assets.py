"""Asset API reads: smart campaigns, smart lists, folders and programs (API-23, 26, 27)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from kampanj.api.asset_params import folder_filter, page, reply, updated_between, window
from kampanj.api.asset_views import RuleWriter, base_url, folder_json, smart_list_json
from kampanj.api.campaign_views import CampaignView, asset_json, load_campaigns
from kampanj.api.envelope import BUSINESS_RULE, ApiError
from kampanj.api.requests import flag
from kampanj.api.security import Caller, Reader
from kampanj.api.tree import FolderRow, Tree
from kampanj.model.names import fold
from kampanj.model.tree import FolderKind
from kampanj.store import codec
from kampanj.store.schema import smart_list

router = APIRouter(prefix="/rest/asset/v1", tags=["assets"])


def _campaigns(caller: Caller) -> tuple[list[CampaignView], Tree, str]:
    with caller.context.database.read() as connection:
        views = load_campaigns(connection, caller.context.clock.now())
        return views, Tree(connection), base_url(connection)


@router.get("/smartCampaign/byName.json")
def smart_campaign_by_name(caller: Reader, name: str | None = None) -> dict[str, Any]:
    """Campaigns with exactly this name (any case), by id (API-23)."""
    if not name:
        raise ApiError("701", "name cannot be blank")
    views, tree, url = _campaigns(caller)
    found = [
        asset_json(v, tree, url)
        for v in views
        if fold(v.campaign.name) == fold(name) and caller.user.reaches(v.workspace)
    ]
    return reply(found)


@router.get("/smartCampaign/{campaign_id:int}.json")
def smart_campaign(caller: Reader, campaign_id: int) -> dict[str, Any]:
    """One smart campaign record (API-22, API-23)."""
    views, tree, url = _campaigns(caller)
    view = next((v for v in views if v.campaign.id == campaign_id), None)
    if view is None:
        return reply([])
    caller.check_workspace(view.workspace, f"campaign {campaign_id}")
    return reply([asset_json(view, tree, url)])


@router.get("/smartCampaigns.json")
def smart_campaigns(
    caller: Reader,
    earliest: Annotated[str | None, Query(alias="earliestUpdatedAt")] = None,
    latest: Annotated[str | None, Query(alias="latestUpdatedAt")] = None,
    folder: str | None = None,
    is_active: Annotated[str | None, Query(alias="isActive")] = None,
    max_return: Annotated[str | None, Query(alias="maxReturn")] = None,
    offset: str | None = None,
) -> dict[str, Any]:
    """Browse smart campaigns of the caller's workspaces, by id (API-23)."""
    size, start = window(max_return, offset)
    active = flag(is_active, "isActive")
    in_window = updated_between(earliest, latest)
    views, tree, url = _campaigns(caller)
    beneath = folder_filter(tree, folder)
    chosen = [
        v
        for v in views
        if caller.user.reaches(v.workspace)
        and in_window(v.updated_at)
        and (active is None or v.campaign.active == active)
        and (beneath is None or v.folder_id in beneath)
    ]
    return reply([asset_json(v, tree, url) for v in page(chosen, size, start)])


@router.get("/smartCampaign/{campaign_id:int}/smartList.json")
def campaign_smart_list(
    caller: Reader,
    campaign_id: int,
    include_rules: Annotated[str | None, Query(alias="includeRules")] = None,
) -> dict[str, Any]:
    """A campaign's own smart list (API-26); its id is the campaign's."""
    rules_wanted = bool(flag(include_rules, "includeRules"))
    with caller.context.database.read() as connection:
        views = load_campaigns(connection, caller.context.clock.now())
        tree = Tree(connection)
        url = base_url(connection)
        writer = RuleWriter(connection) if rules_wanted else None
    view = next((v for v in views if v.campaign.id == campaign_id), None)
    if view is None:
        return reply([])
    caller.check_workspace(view.workspace, f"campaign {campaign_id}")
    item = view.campaign
    record = smart_list_json(
        item_id=campaign_id,
        name=item.name,
        description=item.description,
        folder=tree.folders[view.folder_id],
        workspace=view.workspace,
        created_at=view.created_at,
        updated_at=view.updated_at,
        url=f"{url.rstrip('/')}/#SC{campaign_id}A1",
        rules=item.smart_list if rules_wanted else None,
        writer=writer,
    )
    return reply([record])


def _smart_lists(caller: Caller, rules_wanted: bool) -> tuple[list[dict[str, Any]], Tree]:
    with caller.context.database.read() as connection:
        rows = connection.execute(select(smart_list).order_by(smart_list.c.id)).all()
        tree = Tree(connection)
        url = base_url(connection).rstrip("/")
        writer = RuleWriter(connection) if rules_wanted else None
    records = []
    for row in rows:
        workspace = tree.workspaces[row.workspace_id]
        records.append(
            {
                "row": row,
                "workspace": workspace,
                "record": smart_list_json(
                    item_id=row.id,
                    name=row.name,
                    description=row.description,
                    folder=tree.folders[row.folder_id],
                    workspace=workspace,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    url=f"{url}/#SL{row.id}A1",
                    rules=codec.rules_from_json(row.rules) if rules_wanted else None,
                    writer=writer,
                ),
            }
        )
    return records, tree


@router.get("/smartList/{list_id:int}.json")
def get_smart_list(
    caller: Reader,
    list_id: int,
    include_rules: Annotated[str | None, Query(alias="includeRules")] = None,
) -> dict[str, Any]:
    """One stand-alone smart list (API-26)."""
    records, _ = _smart_lists(caller, bool(flag(include_rules, "includeRules")))
    found = next((r for r in records if r["row"].id == list_id), None)
    if found is None:
        return reply([])
    caller.check_workspace(found["workspace"], f"smart list {list_id}")
    return reply([found["record"]])


@router.get("/smartLists.json")
def get_smart_lists(
    caller: Reader,
    folder: str | None = None,
    earliest: Annotated[str | None, Query(alias="earliestUpdatedAt")] = None,
    latest: Annotated[str | None, Query(alias="latestUpdatedAt")] = None,
    include_rules: Annotated[str | None, Query(alias="includeRules")] = None,
    max_return: Annotated[str | None, Query(alias="maxReturn")] = None,
    offset: str | None = None,
) -> dict[str, Any]:
    """Browse stand-alone smart lists of the caller's workspaces (API-26)."""
    size, start = window(max_return, offset)
    in_window = updated_between(earliest, latest)
    records, tree = _smart_lists(caller, bool(flag(include_rules, "includeRules")))
    beneath = folder_filter(tree, folder)
    chosen = [
        r["record"]
        for r in records
        if caller.user.reaches(r["workspace"])
        and in_window(r["row"].updated_at)
        and (beneath is None or r["row"].folder_id in beneath)
    ]
    return reply(page(chosen, size, start))


def _folders(caller: Caller) -> Tree:
    with caller.context.database.read() as connection:
        return Tree(connection)


def _one_folder(caller: Caller, folder_id: int, kind: FolderKind | None) -> dict[str, Any]:
    tree = _folders(caller)
    row: FolderRow | None = tree.folders.get(folder_id)
    if row is None or (kind is not None and row.kind is not kind):
        return reply([])
    caller.check_workspace(tree.workspace_of(folder_id), f"folder {folder_id}")
    return reply([folder_json(row, tree)])


def _kind(raw: str | None) -> FolderKind | None:
    if not raw:
        return None
    try:
        return FolderKind(raw.strip().title())
    except ValueError:
        raise ApiError(BUSINESS_RULE, "type must be Folder or Program") from None


@router.get("/folder/{folder_id:int}.json")
def get_folder(caller: Reader, folder_id: int, type: str | None = None) -> dict[str, Any]:
    """One folder or program (API-27)."""
    return _one_folder(caller, folder_id, _kind(type))


@router.get("/program/{program_id:int}.json")
def get_program(caller: Reader, program_id: int) -> dict[str, Any]:
    """One program (API-27)."""
    return _one_folder(caller, program_id, FolderKind.PROGRAM)


@router.get("/folders.json")
def get_folders(
    caller: Reader,
    root: str | None = None,
    max_depth: Annotated[str | None, Query(alias="maxDepth")] = None,
    work_space: Annotated[str | None, Query(alias="workSpace")] = None,
    max_return: Annotated[str | None, Query(alias="maxReturn")] = None,
    offset: str | None = None,
) -> dict[str, Any]:
    """Folders and programs below ``root`` down to ``maxDepth`` levels (API-27)."""
    size, start = window(max_return, offset)
    try:
        depth = int(max_depth) if max_depth else 2
    except ValueError:
        raise ApiError(BUSINESS_RULE, "maxDepth must be a whole number") from None
    tree = _folders(caller)
    beneath = folder_filter(tree, root)
    top = int(json.loads(root)["id"]) if root and beneath else None
    rows = []
    for row in tree.folders.values():
        workspace = tree.workspace_of(row.id)
        if not caller.user.reaches(workspace):
            continue
        if work_space and fold(workspace) != fold(work_space):
            continue
        if beneath is not None and row.id not in beneath:
            continue
        level = _distance(tree, row.id, top) if top is not None else _depth(tree, row.id)
        if level <= depth:
            rows.append(row)
    return reply([folder_json(r, tree) for r in page(rows, size, start)])


def _depth(tree: Tree, folder_id: int) -> int:
    return len(list(tree.ancestry(folder_id))) - 1


def _distance(tree: Tree, folder_id: int, top: int) -> int:
    for distance, ancestor in enumerate(tree.ancestry(folder_id)):
        if ancestor.id == top:
            return distance
    return 1 << 30


@router.get("/programs.json")
def get_programs(
    caller: Reader,
    max_return: Annotated[str | None, Query(alias="maxReturn")] = None,
    offset: str | None = None,
) -> dict[str, Any]:
    """Programs of the caller's workspaces, by id (API-27)."""
    size, start = window(max_return, offset)
    tree = _folders(caller)
    rows = [
        r
        for r in tree.folders.values()
        if r.kind is FolderKind.PROGRAM and caller.user.reaches(tree.workspace_of(r.id))
    ]
    return reply([folder_json(r, tree) for r in page(rows, size, start)])
