"""Activating and deactivating trigger campaigns (CMP-12, CMP-13).

`kampanj apply` keeps a stored campaign's ``active`` flag (it is runtime state, like Marketo's
activation; a new campaign takes the file's value); these are the operational switches.
"""

from __future__ import annotations

from sqlalchemy import update

from kampanj.clock import Clock
from kampanj.definitions.lookup import find_campaign
from kampanj.definitions.validate import validate
from kampanj.engine import triggers
from kampanj.engine.batch import check_steps
from kampanj.errors import UserError
from kampanj.model.campaigns import Campaign, CampaignType
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.schema import campaign


def activate(
    database: Database, clock: Clock, name: str, *, workspace: str | None = None
) -> Campaign:
    """CMP-12: refusals in order; a refused activation changes nothing.

    Activities committed before the activation are offered to triggers first, so only
    later ones can fire the campaign (CMP-14).
    """
    triggers.dispatch(database, clock)
    with database.begin() as connection:
        definitions = read_definitions(connection)
        item = find_campaign(definitions, name, workspace)
        if item.executable:
            raise UserError(
                f"campaign {item.name!r} is executable: it runs only when called and cannot "
                "be activated (CMP-12, EXE-4)"
            )
        if item.active:
            raise UserError(f"campaign {item.name!r} is already active (CMP-12)")
        if item.type is not CampaignType.TRIGGER:
            raise UserError(
                f"campaign {item.name!r} has no trigger; only trigger campaigns can be "
                "activated (CMP-12)"
            )
        if not item.flow:
            raise UserError(
                f"campaign {item.name!r} has no flow step; add one before activating (CMP-12)"
            )
        errors = [
            f
            for f in validate(definitions)
            if f.is_error and (f.campaign_id == item.id or (f.path and f.path[0] == item.id))
        ]
        if errors:
            first = errors[0]
            raise UserError(
                f"campaign {item.name!r} cannot be activated while its definition or call "
                f"graph has errors (CMP-12, VAL-3): {first.code}: {first.message}"
                + (f" (and {len(errors) - 1} more; `kampanj lint`)" if len(errors) > 1 else "")
            )
        check_steps(item, definitions)
        connection.execute(
            update(campaign)
            .where(campaign.c.id == item.id)
            .values(active=True, updated_at=clock.now(), activated_at=clock.now())
        )
    return item


def deactivate(
    database: Database, clock: Clock, name: str, *, workspace: str | None = None
) -> Campaign:
    """CMP-13: only new entries stop; queued runs and people in the flow continue."""
    with database.begin() as connection:
        item = find_campaign(read_definitions(connection), name, workspace)
        if not item.active:
            raise UserError(f"campaign {item.name!r} is not active (CMP-13)")
        connection.execute(
            update(campaign)
            .where(campaign.c.id == item.id)
            .values(active=False, updated_at=clock.now())
        )
    return item
