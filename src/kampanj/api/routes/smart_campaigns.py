"""Smart campaign writes: create, update, clone, delete, activate, deactivate (API-24, 25)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import Connection

from kampanj.api import campaign_writes
from kampanj.api.asset_params import target_folder
from kampanj.api.asset_views import base_url
from kampanj.api.campaign_views import asset_json, load_campaigns
from kampanj.api.envelope import BLANK, BUSINESS_RULE, NO_ASSET, ApiError, Reply, success_body
from kampanj.api.requests import json_or_form_body
from kampanj.api.security import Caller, Writer
from kampanj.api.tree import Tree
from kampanj.errors import UserError
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign
from kampanj.services.clone import clone_stored
from kampanj.store.definitions_repo import read_definitions

router = APIRouter(prefix="/rest/asset/v1", tags=["assets"])


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _record(connection: Connection, caller: Caller, campaign_id: int) -> dict[str, Any]:
    views = load_campaigns(connection, caller.context.clock.now())
    view = next(v for v in views if v.campaign.id == campaign_id)
    return asset_json(view, Tree(connection), base_url(connection))


def _stored_campaign(
    connection: Connection, caller: Caller, campaign_id: int
) -> tuple[Definitions, Campaign]:
    """The stored definitions and the campaign; 702 unknown, 603 outside scope (API-25)."""
    stored = read_definitions(connection)
    found = next((c for c in stored.campaigns if c.id == campaign_id), None)
    if found is None:
        raise ApiError(NO_ASSET, f"Smart campaign {campaign_id} not found")
    caller.check_workspace(found.workspace, f"campaign {campaign_id}")
    return stored, found


@router.post("/smartCampaigns.json")
def create_smart_campaign(
    caller: Writer, body: Annotated[dict[str, Any], Depends(json_or_form_body)]
) -> dict[str, Any]:
    """Create an empty campaign (type default) in a folder or program (API-24)."""
    name = str(body.get("name") or "").strip()
    if not name:
        raise ApiError(BLANK, "name cannot be blank")
    now = caller.context.clock.now()
    with caller.context.database.begin() as connection:
        workspace, path = target_folder(connection, caller, body.get("folder"))
        item = Campaign(
            workspace=workspace,
            folder=path,
            name=name,
            description=str(body.get("description") or ""),
            executable=_flag(body, "isExecutable"),
        )
        campaign_id = campaign_writes.create(connection, read_definitions(connection), item, now)
        return success_body(Reply(result=[_record(connection, caller, campaign_id)]))


@router.post("/smartCampaign/{campaign_id:int}.json")
def update_smart_campaign(
    caller: Writer,
    campaign_id: int,
    body: Annotated[dict[str, Any], Depends(json_or_form_body)],
) -> dict[str, Any]:
    """Change name and description only; ``isExecutable`` → 709 (API-24, EXE-1)."""
    if "isExecutable" in body:
        raise ApiError(BUSINESS_RULE, "isExecutable cannot be changed; clone the campaign instead")
    with caller.context.database.begin() as connection:
        stored, item = _stored_campaign(connection, caller, campaign_id)
        campaign_writes.rename(
            connection,
            stored,
            item,
            name=str(body.get("name") or item.name),
            description=str(body.get("description", item.description) or ""),
            now=caller.context.clock.now(),
        )
        return success_body(Reply(result=[_record(connection, caller, campaign_id)]))


@router.post("/smartCampaign/{campaign_id:int}/clone.json")
def clone_smart_campaign(
    caller: Writer,
    campaign_id: int,
    body: Annotated[dict[str, Any], Depends(json_or_form_body)],
) -> dict[str, Any]:
    """Clone into a folder of the same workspace (API-25, CMP-24..26)."""
    name = str(body.get("name") or "").strip()
    if not name:
        raise ApiError(BLANK, "name cannot be blank")
    with caller.context.database.begin() as connection:
        stored, source = _stored_campaign(connection, caller, campaign_id)
        workspace, path = target_folder(connection, caller, body.get("folder"))
        if workspace != source.workspace:
            raise ApiError(BUSINESS_RULE, "A campaign cannot be cloned into another workspace")
        try:
            cloned = clone_stored(
                connection,
                stored,
                source,
                name=name,
                folder=path,
                executable=_flag(body, "isExecutable"),
                clock=caller.context.clock,
            )
        except UserError as error:
            raise ApiError(BUSINESS_RULE, str(error)) from None
        new_id = cloned.campaign.id
        assert new_id is not None
        if "description" in body:
            with_description = replace(cloned.campaign, description=str(body["description"]))
            campaign_writes.rename(
                connection,
                read_definitions(connection),
                with_description,
                name=with_description.name,
                description=with_description.description,
                now=caller.context.clock.now(),
            )
        return success_body(Reply(result=[_record(connection, caller, new_id)]))


def _mutation(
    caller: Caller, campaign_id: int, write: Callable[[Connection, Definitions, Campaign], None]
) -> dict[str, Any]:
    with caller.context.database.begin() as connection:
        stored, item = _stored_campaign(connection, caller, campaign_id)
        write(connection, stored, item)
    return success_body(Reply(result=[{"id": campaign_id}]))


@router.post("/smartCampaign/{campaign_id:int}/activate.json")
def activate_smart_campaign(caller: Writer, campaign_id: int) -> dict[str, Any]:
    """CMP-12."""
    now = caller.context.clock.now()
    return _mutation(
        caller, campaign_id, lambda c, stored, item: campaign_writes.activate(c, stored, item, now)
    )


@router.post("/smartCampaign/{campaign_id:int}/deactivate.json")
def deactivate_smart_campaign(caller: Writer, campaign_id: int) -> dict[str, Any]:
    """CMP-13."""
    now = caller.context.clock.now()
    return _mutation(
        caller, campaign_id, lambda c, _stored, item: campaign_writes.deactivate(c, item, now)
    )


@router.post("/smartCampaign/{campaign_id:int}/delete.json")
def delete_smart_campaign(caller: Writer, campaign_id: int) -> dict[str, Any]:
    """CMP-27."""
    return _mutation(caller, campaign_id, campaign_writes.remove)
