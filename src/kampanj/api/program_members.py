"""Program member status through the API (API-33): FLOW-20/21 for listed leads.

The same rules as the Change Program Status step: a status must belong to the program's
channel, moves only go forward, a non-member joins with the status, a success status
stamps Success and Success Date once, and the first membership of a person without an
acquisition program acquires them. Each change writes Change Status in Progression (104)
with ``Source = Web Service API``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from kampanj.api.envelope import LEAD_NOT_FOUND, OBJECT_NOT_FOUND, ApiError, skipped
from kampanj.api.people import API_SOURCE
from kampanj.api.security import Caller
from kampanj.api.tree import Tree
from kampanj.ingest.account import account_zone
from kampanj.model.activities import StandardActivity
from kampanj.model.names import fold
from kampanj.model.tree import FolderKind, ProgramStatus
from kampanj.store import codec
from kampanj.store.activities_repo import activity_row, insert_activities
from kampanj.store.schema import channel, folder, person, program_member

STATUS_NOT_FOUND = "1025"
AT_OR_PAST = "1037"


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """The program and the status its members move to."""

    id: int
    name: str
    status: ProgramStatus
    rank: int


def find_target(connection: Connection, caller: Caller, program_id: int, status: str) -> Target:
    """1013 for an unknown program, 603 outside the caller's reach, 1025 for a status not
    in the program's channel."""
    row = connection.execute(
        select(folder.c.name, folder.c.kind, channel.c.statuses)
        .select_from(folder.outerjoin(channel, channel.c.id == folder.c.channel_id))
        .where(folder.c.id == program_id)
    ).first()
    if row is None or row.kind != FolderKind.PROGRAM.value:
        raise ApiError(OBJECT_NOT_FOUND, f"Program {program_id} not found")
    caller.check_workspace(Tree(connection).workspace_of(program_id), f"program {program_id}")
    statuses = () if row.statuses is None else codec.statuses_from_json(row.statuses)
    for rank, candidate in enumerate(statuses):
        if fold(candidate.name) == fold(status):
            return Target(id=program_id, name=row.name, status=candidate, rank=rank)
    known = ", ".join(repr(s.name) for s in statuses) or "none: the program has no channel"
    raise ApiError(
        STATUS_NOT_FOUND,
        f"Program status {status!r} not found in program {row.name!r} (statuses: {known})",
    )


@dataclass(kw_only=True, slots=True)
class _Membership:
    """A lead's membership of the program as this call sees it."""

    status: str
    status_rank: int
    success: bool
    acquired_by: bool


def change_statuses(
    connection: Connection,
    target: Target,
    lead_ids: list[int | None],
    now: datetime,
    *,
    members_only: bool,
) -> list[dict[str, Any]]:
    """Move each lead forward to the target status, in input order; result items.

    A lead listed twice is moved once; the second listing is already at the status (1037).
    """
    known = {i for i in lead_ids if i is not None}
    acquisition = {
        row.id: row.acquisition_program_id
        for row in connection.execute(
            select(person.c.id, person.c.acquisition_program_id).where(person.c.id.in_(known))
        )
    }
    pm = program_member
    members = {
        row.person_id: _Membership(
            status=row.status,
            status_rank=row.status_rank,
            success=bool(row.success),
            acquired_by=bool(row.acquired_by),
        )
        for row in connection.execute(
            select(pm).where(pm.c.program_id == target.id, pm.c.person_id.in_(acquisition))
        )
    }
    today = now.astimezone(account_zone(connection)).date()
    status = target.status
    result: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    for lead_id in lead_ids:
        if lead_id is None or lead_id not in acquisition:
            result.append(skipped(LEAD_NOT_FOUND, "Lead not found", id=lead_id))
            continue
        member = members.get(lead_id)
        if member is None and members_only:
            result.append(
                skipped(LEAD_NOT_FOUND, "Lead is not a member of the program", id=lead_id)
            )
            continue
        if member is not None and member.status_rank >= target.rank:
            message = f"Lead is already at or past status {status.name!r}"
            result.append(skipped(AT_OR_PAST, message, id=lead_id))
            continue
        previous = (
            {}
            if member is None
            else {"Old Status": member.status, "Old Status ID": member.status_rank}
        )
        if member is None:
            member = _join(connection, target, lead_id, acquisition, now)
            members[lead_id] = member
        values: dict[str, Any] = {"status": status.name, "status_rank": target.rank}
        if status.success and not member.success:
            values.update(success=True, success_date=today)  # stamped once (FLOW-21)
        connection.execute(
            update(pm)
            .where(pm.c.program_id == target.id, pm.c.person_id == lead_id)
            .values(updated_at=now, **values)
        )
        member.status, member.status_rank = status.name, target.rank
        member.success = member.success or status.success
        activities.append(
            activity_row(
                person_id=lead_id,
                activity_type_id=StandardActivity.CHANGE_STATUS_IN_PROGRESSION,
                activity_date=now,
                primary_attribute_value=target.name,
                primary_attribute_value_id=target.id,
                attributes={
                    **previous,
                    "New Status": status.name,
                    "New Status ID": target.rank,
                    "Success": member.success,
                    "Acquired By": member.acquired_by,
                    "Source": API_SOURCE,
                },
            )
        )
        result.append({"id": lead_id, "status": "updated"})
    insert_activities(connection, activities)
    return result


def _join(
    connection: Connection,
    target: Target,
    lead_id: int,
    acquisition: dict[int, int | None],
    now: datetime,
) -> _Membership:
    """A new membership; the first one of a person without an acquisition program acquires
    them (FLOW-21). Its status is set by the caller."""
    if acquisition[lead_id] is None:
        connection.execute(
            update(person)
            .where(person.c.id == lead_id)
            .values(acquisition_program_id=target.id, updated_at=now)
        )
        acquisition[lead_id] = target.id
    acquired = acquisition[lead_id] == target.id
    connection.execute(
        insert(program_member).values(
            program_id=target.id,
            person_id=lead_id,
            status="",
            status_rank=-1,
            success=False,
            success_date=None,
            acquired_by=acquired,
            membership_date=now,
            updated_at=now,
        )
    )
    return _Membership(status="", status_rank=-1, success=False, acquired_by=acquired)
