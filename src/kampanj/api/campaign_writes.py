"""Smart campaign writes of the Asset API (API-24, API-25; CMP-1, CMP-12, CMP-13, CMP-27).

Every write is validated like `kampanj apply` (VAL-1, VAL-3): it is refused with 709 when
it would add an error finding to the stored state, and it runs in one transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, delete, exists, select, update

from kampanj.api.envelope import BUSINESS_RULE, INVALID_REQUEST, ApiError
from kampanj.api.validation import graph_errors, refuse_new_errors
from kampanj.clock import FixedClock
from kampanj.engine.runs import RunStatus
from kampanj.model.account import Definitions
from kampanj.model.campaigns import (
    MAX_CAMPAIGN_DESCRIPTION_LENGTH,
    MAX_CAMPAIGN_NAME_LENGTH,
    Campaign,
    CampaignType,
)
from kampanj.model.names import fold
from kampanj.store.definitions_repo import apply_definitions
from kampanj.store.schema import campaign, campaign_member, run, scheduled_run

_PENDING = "pending"


def check_name_and_description(
    stored: Definitions, item: Campaign, *, ignore_id: int | None = None
) -> None:
    """CMP-1: name 1-255 characters, unique in its folder; description ≤ 2,000 (709)."""
    if not item.name.strip():
        raise ApiError("701", "name cannot be blank")
    if len(item.name) > MAX_CAMPAIGN_NAME_LENGTH:
        raise ApiError(BUSINESS_RULE, f"name is longer than {MAX_CAMPAIGN_NAME_LENGTH} characters")
    if len(item.description) > MAX_CAMPAIGN_DESCRIPTION_LENGTH:
        raise ApiError(
            BUSINESS_RULE,
            f"description is longer than {MAX_CAMPAIGN_DESCRIPTION_LENGTH} characters",
        )
    for other in stored.campaigns:
        same_folder = fold(other.workspace) == fold(item.workspace) and tuple(
            map(fold, other.folder)
        ) == tuple(map(fold, item.folder))
        if same_folder and other.id != ignore_id and fold(other.name) == fold(item.name):
            raise ApiError(
                BUSINESS_RULE, f"A campaign named {other.name!r} already exists in that folder"
            )


def _replaced(stored: Definitions, item: Campaign) -> Definitions:
    return replace(
        stored, campaigns=tuple(item if c.id == item.id else c for c in stored.campaigns)
    )


def create(connection: Connection, stored: Definitions, item: Campaign, now: datetime) -> int:
    """Store a new (empty) campaign; returns its id (API-24)."""
    check_name_and_description(stored, item)
    refuse_new_errors(stored, replace(stored, campaigns=(*stored.campaigns, item)))
    apply_definitions(connection, Definitions(campaigns=(item,)), clock=FixedClock(now))
    return _id_of(connection, stored, item)


def _id_of(connection: Connection, stored: Definitions, item: Campaign) -> int:
    known = {c.id for c in stored.campaigns}
    rows = connection.execute(select(campaign.c.id, campaign.c.name)).all()
    return int(next(r.id for r in rows if r.id not in known and fold(r.name) == fold(item.name)))


def rename(
    connection: Connection,
    stored: Definitions,
    item: Campaign,
    *,
    name: str,
    description: str,
    now: datetime,
) -> None:
    """Change a campaign's name and description only (API-24)."""
    changed = replace(item, name=name.strip(), description=description)
    check_name_and_description(stored, changed, ignore_id=item.id)
    refuse_new_errors(stored, _replaced(stored, changed))
    connection.execute(
        update(campaign)
        .where(campaign.c.id == item.id)
        .values(name=changed.name, description=changed.description, updated_at=now)
    )


def activate(connection: Connection, stored: Definitions, item: Campaign, now: datetime) -> None:
    """CMP-12: refusals in order, then ``active``; a refused activation changes nothing."""
    if item.executable:
        raise ApiError(INVALID_REQUEST, "Executable campaigns cannot be activated (EXE-4)")
    if item.active:
        raise ApiError(BUSINESS_RULE, "Campaign is already active")
    if item.type is not CampaignType.TRIGGER:
        raise ApiError(BUSINESS_RULE, "Only trigger campaigns can be activated")
    if not item.flow:
        raise ApiError(BUSINESS_RULE, "A campaign needs at least one flow step to be activated")
    assert item.id is not None
    graph = graph_errors(stored, item.id)
    if graph:
        raise ApiError(BUSINESS_RULE, f"{graph[0].code}: {graph[0].message}")
    _set_active(connection, item, True, now)


def deactivate(connection: Connection, item: Campaign, now: datetime) -> None:
    """CMP-13: only an active campaign; queued runs and waiting persons continue."""
    if not item.active:
        raise ApiError(BUSINESS_RULE, "Campaign is not active")
    _set_active(connection, item, False, now)


def _set_active(connection: Connection, item: Campaign, active: bool, now: datetime) -> None:
    connection.execute(
        update(campaign)
        .where(campaign.c.id == item.id)
        .values(active=active, updated_at=now, **({"activated_at": now} if active else {}))
    )


def remove(connection: Connection, stored: Definitions, item: Campaign) -> None:
    """CMP-27: refused while active, running or referenced; its activities stay."""
    if item.active:
        raise ApiError(BUSINESS_RULE, "Deactivate the campaign before deleting it")
    unfinished = connection.execute(
        select(
            exists().where(
                run.c.campaign_id == item.id,
                run.c.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value]),
            )
        )
    ).scalar()
    if unfinished:
        raise ApiError(BUSINESS_RULE, "The campaign has unfinished runs")
    without = replace(stored, campaigns=tuple(c for c in stored.campaigns if c.id != item.id))
    try:
        refuse_new_errors(stored, without)
    except ApiError as error:
        raise ApiError(
            BUSINESS_RULE, f"Another campaign refers to this one ({error.message})"
        ) from None
    connection.execute(
        delete(scheduled_run).where(
            scheduled_run.c.campaign_id == item.id, scheduled_run.c.status == _PENDING
        )
    )
    connection.execute(delete(campaign_member).where(campaign_member.c.campaign_id == item.id))
    connection.execute(delete(campaign).where(campaign.c.id == item.id))
