"""Program member status (API-33): the current endpoint and Marketo's legacy one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.exc import IntegrityError

from kampanj.api.envelope import BLANK, ApiError, Reply, success_body
from kampanj.api.program_members import change_statuses, find_target
from kampanj.api.requests import body_object, input_records, json_body
from kampanj.api.security import Caller, Writer
from kampanj.api.triggers import offer_to_triggers

router = APIRouter(prefix="/rest/v1", tags=["programs"])


def _lead_ids(records: list[Any], key: str) -> list[int | None]:
    """``input[].key`` as lead ids; anything but an integer is an unknown lead (1004)."""
    ids: list[int | None] = []
    for record in records:
        value = record.get(key) if isinstance(record, dict) else None
        ids.append(value if isinstance(value, int) and not isinstance(value, bool) else None)
    return ids


def _change(
    caller: Caller, program_id: int, document: Any, status_key: str, lead_key: str, legacy: bool
) -> dict[str, Any]:
    body = body_object(document)
    status = body.get(status_key)
    if not isinstance(status, str) or not status.strip():
        raise ApiError(BLANK, f"{status_key} cannot be blank")
    ids = _lead_ids(input_records(body), lead_key)
    context = caller.context
    for attempt in range(2):
        try:
            with context.database.begin() as connection:
                target = find_target(connection, caller, program_id, status)
                result = change_statuses(
                    connection, target, ids, context.clock.now(), members_only=legacy
                )
            break
        except IntegrityError:
            # A concurrent call made one of these leads a member first: read again.
            if attempt:
                raise
    offer_to_triggers(context)
    return success_body(Reply(result=result))


@router.post("/programs/{program_id:int}/members/status.json")
def change_member_status(
    caller: Writer, program_id: int, document: Annotated[Any, Depends(json_body)]
) -> dict[str, Any]:
    """``{"statusName", "input": [{"leadId"}]}``: members move forward, others join."""
    return _change(caller, program_id, document, "statusName", "leadId", legacy=False)


@router.post("/leads/programs/{program_id:int}/status.json")
def change_lead_program_status(
    caller: Writer, program_id: int, document: Annotated[Any, Depends(json_body)]
) -> dict[str, Any]:
    """Legacy ``{"status", "input": [{"id"}]}``: members only (non-members are 1004)."""
    return _change(caller, program_id, document, "status", "id", legacy=True)
