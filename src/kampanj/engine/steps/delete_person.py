"""Delete Person (FLOW-25): Delete Lead (37), then the person and everything about them.

The person row, list, program and campaign memberships and every other activity go; all
their flow instances end (``removed``, FLOW-3) in every run, this one included, so later
steps of this run do not see them (they are not counted as ``person deleted``, FLOW-7,
which is for people deleted outside the flow). Outbox rows stay: they are the ledger of
what was already handed off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, delete, select, update

from kampanj.engine.runs import MemberState
from kampanj.engine.steps.base import StepEnv, StepOutcome, insert_activity_select
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import ParamValue
from kampanj.store.schema import (
    RUN_MEMBER_LIVE,
    activity,
    call_member,
    campaign_member,
    list_member,
    program_member,
    run_member,
)


def apply(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    # The cohort is read from run_member (level 0) or call_member (inside an Execute
    # Campaign child), which the last two statements change: every statement before them
    # still sees the whole cohort, and none is correlated to it.
    ids = cohort.correlate(None)
    count = len(connection.execute(cohort.order_by(None)).all())
    source = cohort.subquery("cohort")
    insert_activity_select(
        connection,
        env,
        source=select(source.c.person_id),
        person_id=source.c.person_id,
        activity_type_id=StandardActivity.DELETE_LEAD,
        attributes={},
    )
    connection.execute(
        delete(activity).where(
            activity.c.person_id.in_(ids),
            activity.c.activity_type_id != StandardActivity.DELETE_LEAD,
        )
    )
    for table in (list_member, program_member, campaign_member):
        connection.execute(delete(table).where(table.c.person_id.in_(ids)))
    connection.execute(delete(env.person).where(env.person.c.id.in_(ids)))
    connection.execute(
        update(run_member)
        .where(run_member.c.person_id.in_(ids), RUN_MEMBER_LIVE)
        .values(state=MemberState.REMOVED.value, next_step=None, wake_at=None, branch=None)
    )
    # Inside a child the person leaves the whole call chain too (FLOW-25, EXE-18).
    connection.execute(
        delete(call_member).where(
            call_member.c.run_id == env.run_id, call_member.c.person_id.in_(ids)
        )
    )
    return StepOutcome(executed=count)
