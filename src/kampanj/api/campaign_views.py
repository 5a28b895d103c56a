"""Campaigns as the REST APIs describe them (API-14, API-22, CMP-2..4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from kampanj.api.formats import asset_time, lead_time
from kampanj.api.tree import Tree
from kampanj.definitions.validate import validate
from kampanj.model.campaigns import Campaign, CampaignType, Recurrence
from kampanj.model.names import fold
from kampanj.model.smartlists import Rule
from kampanj.store import codec
from kampanj.store.definitions_repo import read_definitions
from kampanj.store.schema import campaign, run, scheduled_run

REQUESTED_TRIGGER = "campaign is requested"
API_SOURCE = "web service api"
_CALL_GRAPH_CODES = frozenset({"EXE_CYCLE", "EXE_DEPTH"})  # CMP-3: not the campaign's own
_PENDING = "pending"


@dataclass(frozen=True, kw_only=True, slots=True)
class CampaignView:
    """A stored campaign with what the API reports beside its definition."""

    campaign: Campaign
    """The definition (with id)."""
    folder_id: int
    """Containing folder or program."""
    workspace: str
    """Workspace name."""
    created_at: datetime
    updated_at: datetime
    status: str
    """CMP-3 status."""


def accepts_api(rule: Rule) -> bool:
    """Whether a *Campaign is Requested* trigger accepts ``Web Service API`` (REQ-5)."""
    if fold(rule.name) != REQUESTED_TRIGGER:
        return False
    for constraint in rule.constraints:
        if fold(constraint.name) != "source":
            continue
        if fold(constraint.operator) == "is any":
            return True
        return any(fold(v) == API_SOURCE for v in constraint.values)
    return True


def is_requestable(item: Campaign) -> bool:
    """CMP-4."""
    return item.active and not item.executable and any(map(accepts_api, item.smart_list.triggers))


def _status(
    item: Campaign, invalid: set[int], pending: set[int], ran: set[int], now: datetime
) -> str:
    if item.id in invalid:
        return "Invalid"
    if item.executable:
        return "Inactive"
    if item.type is CampaignType.TRIGGER:
        if not item.active:
            return "Inactive"
        requested = all(fold(t.name) == REQUESTED_TRIGGER for t in item.smart_list.triggers)
        return "Requested" if requested else "Active"
    recurrence = item.schedule.recurrence
    if recurrence is not None and (recurrence.end_at is None or recurrence.end_at > now):
        return "Recurring Run"
    if item.id in pending:
        return "Single Run"
    if item.id not in ran:
        return "Never Run"
    return "Inactive"


def _own_errors(definitions: Any) -> set[int]:
    """Campaigns whose own smart list or flow has an error finding (CMP-3)."""
    return {
        f.campaign_id
        for f in validate(definitions)
        if f.is_error
        and f.campaign_id is not None
        and f.code not in _CALL_GRAPH_CODES
        and len(f.path) <= 1
    }


def load_campaigns(connection: Connection, now: datetime) -> list[CampaignView]:
    """Every stored campaign by id, with status."""
    definitions = read_definitions(connection)
    invalid = _own_errors(definitions)
    pending = set(
        connection.execute(
            select(scheduled_run.c.campaign_id).where(scheduled_run.c.status == _PENDING)
        ).scalars()
    )
    ran = set(connection.execute(select(run.c.campaign_id).distinct()).scalars())
    stamps = {
        row.id: row
        for row in connection.execute(
            select(
                campaign.c.id,
                campaign.c.folder_id,
                campaign.c.created_at,
                campaign.c.updated_at,
            )
        )
    }
    views = []
    for item in sorted(definitions.campaigns, key=lambda c: c.id or 0):
        assert item.id is not None
        row = stamps[item.id]
        views.append(
            CampaignView(
                campaign=item,
                folder_id=row.folder_id,
                workspace=item.workspace,
                created_at=row.created_at,
                updated_at=row.updated_at,
                status=_status(item, invalid, pending, ran, now),
            )
        )
    return views


def lead_database_json(view: CampaignView, tree: Tree) -> dict[str, Any]:
    """API-14 item: ``default`` reported as ``batch``, ``active`` only for trigger campaigns."""
    item = view.campaign
    program = tree.program_of(view.folder_id)
    record: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "type": "trigger" if item.type is CampaignType.TRIGGER else "batch",
        "programId": program.id if program else None,
        "programName": program.name if program else None,
        "workspaceName": view.workspace,
        "createdAt": lead_time(view.created_at),
        "updatedAt": lead_time(view.updated_at),
    }
    if item.type is CampaignType.TRIGGER:
        record["active"] = item.active
    record["isExecutable"] = item.executable
    return record


def _recurrence_json(recurrence: Recurrence) -> dict[str, Any]:
    document = codec.recurrence_to_json(recurrence)
    document["startAt"] = asset_time(recurrence.start_at)
    document["endAt"] = asset_time(recurrence.end_at)
    return document


def asset_json(view: CampaignView, tree: Tree, base_url: str) -> dict[str, Any]:
    """API-22 smart campaign record."""
    item = view.campaign
    schedule = item.schedule
    rule = schedule.qualification
    program = tree.program_of(view.folder_id)
    folder = tree.folders[view.folder_id]
    record: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "type": item.type.value,
        "status": view.status,
        "isSystem": False,
        "isActive": item.active,
        "isRequestable": is_requestable(item),
        "isExecutable": item.executable,
    }
    if schedule.recurrence is not None:
        record["recurrence"] = _recurrence_json(schedule.recurrence)
    record.update(
        {
            "qualificationRuleType": rule.type.value,
            "qualificationRuleInterval": rule.interval,
            "qualificationRuleUnit": rule.unit.value if rule.unit else None,
            "maxMembers": schedule.max_members,
            "isCommunicationLimitEnabled": schedule.communication_limit,
            "smartListId": item.id,
            "flowId": item.id,
            "parentProgramId": program.id if program else None,
            "folder": {"id": folder.id, "type": folder.kind.value},
            "workspace": view.workspace,
            "computedUrl": f"{base_url.rstrip('/')}/#SC{item.id}A1",
            "createdAt": asset_time(view.created_at),
            "updatedAt": asset_time(view.updated_at),
        }
    )
    return record


def visible(views: Sequence[CampaignView], reaches: Any) -> list[CampaignView]:
    """Views within the caller's workspaces (WS-5)."""
    return [v for v in views if reaches(v.workspace)]
