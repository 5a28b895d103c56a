"""Aborting runs (CMP-29, CMP-30, EXE-20, WAIT-9).

An aborted run takes no further step: the status changes under the run-row lock every step
transaction takes first (``cohort.still_running``), so a step either committed before the
abort or never runs. People still in the flow — waiting ones included — are removed.
Completed steps are not undone; runs it requested and pending scheduled runs are untouched.
Aborting every run of an active trigger campaign also deactivates it, in the same
transaction, so no new entry slips in between (CMP-29, CMP-13).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from kampanj.clock import Clock
from kampanj.definitions.lookup import find_campaign
from kampanj.engine.runs import MemberState, RunResult, RunStatus, load_result, set_status
from kampanj.errors import NotFoundError, UserError
from kampanj.model.campaigns import CampaignType
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.schema import campaign as campaign_table
from kampanj.store.schema import run, run_member

_UNFINISHED = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)
_IN_FLOW = (MemberState.ACTIVE.value, MemberState.WAITING.value)


def _abort(connection: Connection, run_id: int, clock: Clock) -> bool:
    """Abort one run in the caller's transaction; False when it had already finished."""
    status = connection.execute(
        select(run.c.status).where(run.c.id == run_id).with_for_update()
    ).scalar_one_or_none()
    if status is None:
        raise NotFoundError(f"there is no run {run_id}; `kampanj runs` lists them")
    if status not in _UNFINISHED:
        return False
    set_status(connection, run_id, RunStatus.ABORTED, clock.now())
    connection.execute(
        update(run_member)
        .where(run_member.c.run_id == run_id, run_member.c.state.in_(_IN_FLOW))
        .values(state=MemberState.REMOVED.value, wake_at=None, branch=None)
    )
    return True


def abort_run(database: Database, clock: Clock, run_id: int) -> RunResult:
    """Abort one unfinished run (CMP-29)."""
    with database.begin() as connection:
        if not _abort(connection, run_id, clock):
            status = load_result(connection, run_id).status.value
            raise UserError(f"run {run_id} is already {status}; only unfinished runs are aborted")
        return load_result(connection, run_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class CampaignAbort:
    """What aborting a campaign did."""

    results: list[RunResult]
    """Each run it aborted, oldest first."""
    deactivated: bool
    """An active trigger campaign was deactivated (CMP-29)."""


def abort_campaign(
    database: Database, clock: Clock, campaign_name: str, *, workspace: str | None = None
) -> CampaignAbort:
    """Abort every unfinished run of a campaign and deactivate it if it is an active
    trigger campaign (CMP-29); executables are refused (EXE-20)."""
    with database.read() as connection:
        definitions = read_definitions(connection)
    campaign = find_campaign(definitions, campaign_name, workspace)
    if campaign.executable:
        raise UserError(
            f"campaign {campaign.name!r} is executable: it has no runs of its own; abort the "
            "run of the campaign that calls it (EXE-20)"
        )
    results = []
    with database.begin() as connection:
        deactivated = False
        if campaign.type is CampaignType.TRIGGER:
            deactivated = (
                connection.execute(
                    update(campaign_table)
                    .where(campaign_table.c.id == campaign.id, campaign_table.c.active.is_(True))
                    .values(active=False, updated_at=clock.now())
                ).rowcount
                == 1
            )
        ids = connection.execute(
            select(run.c.id)
            .where(run.c.campaign_id == campaign.id, run.c.status.in_(_UNFINISHED))
            .order_by(run.c.id)
        ).scalars()
        for run_id in list(ids):
            if _abort(connection, run_id, clock):
                results.append(load_result(connection, run_id))
    return CampaignAbort(results=results, deactivated=deactivated)
