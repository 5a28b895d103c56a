"""Remove from Flow (FLOW-18, FLOW-19, EXE-18, REQ-11), set-based.

A target on the person's current call chain ("this" included) takes the person out of the
whole chain: their flow instance of this run ends (``removed``) and their rows of every
inline call of this chunk go, so they execute no further step of this run, neither in the
child nor in any caller. Every target also ends the person's other flow instances of that
campaign (active or waiting rows of its other unfinished runs, and the person's other
entries of this run when it is this run's campaign, CMP-19). One Remove from Flow
activity (903) is written per person and target that ended at least one instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, or_, select, update

from kampanj.engine.frame import FlowRun, Frame
from kampanj.engine.runs import MemberState, RunStatus
from kampanj.engine.steps.base import StepEnv, StepOutcome, insert_activity_select, text_value
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import Campaign, ParamValue
from kampanj.model.names import fold
from kampanj.model.step_catalogue import THIS_CAMPAIGN
from kampanj.store.schema import RUN_MEMBER_LIVE, call_member, run, run_member

UNKNOWN_TARGET = "INVALID_CAMPAIGN"
_LIVE_RUN = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


def targets(flow: FlowRun, frame: Frame, params: Mapping[str, ParamValue]) -> list[Campaign]:
    """The campaigns the step names, in order, without repeats; unknown names are dropped
    (lint refuses them, REF_UNKNOWN)."""
    raw = params.get("campaigns")
    names = raw if isinstance(raw, tuple) else (raw,)
    found: list[Campaign] = []
    for name in names:
        if name is None:
            continue
        if fold(str(name)) in (THIS_CAMPAIGN, "this campaign"):
            campaign: Campaign | None = frame.campaign
        else:
            campaign = flow.campaign_named(name, frame.campaign.workspace)
        if campaign is not None and all(c.id != campaign.id for c in found):
            found.append(campaign)
    return found


def apply(
    connection: Connection,
    flow: FlowRun,
    frame: Frame,
    env: StepEnv,
    params: Mapping[str, ParamValue],
    entries: Select[Any],
) -> StepOutcome:
    named = targets(flow, frame, params)
    removing = entries.subquery("removing")
    count = len(connection.execute(select(removing.c.person_id)).all())
    if not named:
        return StepOutcome(
            errors=[
                env.issue(UNKNOWN_TARGET, f"Remove from Flow names no known campaign: {params!r}")
            ]
            if count
            else []
        )
    chain_ids = [c.id for c in frame.chain]
    on_chain = [c for c in named if c.id in chain_ids]
    for target in named:
        _end_other_instances(connection, flow, env, target, removing, chained=target in on_chain)
    if on_chain:
        _leave_chain(connection, flow, frame, env, on_chain[0], chain_ids, removing)
    return StepOutcome(executed=count)


def _end_other_instances(
    connection: Connection,
    flow: FlowRun,
    env: StepEnv,
    target: Campaign,
    removing: Any,
    *,
    chained: bool,
) -> None:
    """The person's other instances of ``target`` end (FLOW-18): in its other unfinished
    runs and, when ``target`` is this run's campaign, the person's other entries of this run
    (CMP-19); the entries executing this step are left to `_leave_chain`."""
    executing = (
        select(removing.c.person_id)
        .where(
            removing.c.person_id == run_member.c.person_id,
            removing.c.entry_id == run_member.c.entry_id,
        )
        .exists()
    )
    other = (
        or_(run_member.c.run_id != flow.run_id, ~executing),
        RUN_MEMBER_LIVE,
        run_member.c.run_id.in_(
            select(run.c.id).where(run.c.campaign_id == target.id, run.c.status.in_(_LIVE_RUN))
        ),
        run_member.c.person_id.in_(select(removing.c.person_id)),
    )
    if not chained:
        # 903 only for people who had an instance to end (FLOW-19).
        insert_activity_select(
            connection,
            env,
            source=select(env.person.c.id).where(
                env.person.c.id.in_(select(run_member.c.person_id).where(*other))
            ),
            person_id=env.person.c.id,
            activity_type_id=StandardActivity.REMOVE_FROM_FLOW,
            primary_value=target.name,
            primary_id=target.id,
            attributes={"Removed From": text_value(str(target.id))},
        )
    connection.execute(
        update(run_member)
        .where(*other)
        .values(state=MemberState.REMOVED.value, next_step=None, wake_at=None, branch=None)
    )


def _leave_chain(
    connection: Connection,
    flow: FlowRun,
    frame: Frame,
    env: StepEnv,
    target: Campaign,
    chain_ids: list[int | None],
    removing: Any,
) -> None:
    """EXE-18: out of the child and every caller; no further step of this run."""
    insert_activity_select(
        connection,
        env,
        source=select(removing.c.person_id),
        person_id=removing.c.person_id,
        activity_type_id=StandardActivity.REMOVE_FROM_FLOW,
        primary_value=target.name,
        primary_id=target.id,
        attributes={"Removed From": text_value(",".join(str(i) for i in chain_ids))},
    )
    # Read the pairs first: their source may be the very table being changed.
    pairs = connection.execute(select(removing.c.person_id, removing.c.entry_id)).all()
    if not pairs:
        return
    connection.execute(
        update(run_member)
        .where(
            run_member.c.run_id == flow.run_id,
            run_member.c.person_id == bindparam("b_person"),
            run_member.c.entry_id == bindparam("b_entry"),
        )
        .values(state=MemberState.REMOVED.value, next_step=None, branch=None),
        [{"b_person": p, "b_entry": e} for p, e in pairs],
    )
    if frame.depth:
        connection.execute(
            delete(call_member).where(
                call_member.c.run_id == flow.run_id,
                call_member.c.chunk == frame.chunk,
                call_member.c.person_id == bindparam("b_person"),
                call_member.c.entry_id == bindparam("b_entry"),
            ),
            [{"b_person": p, "b_entry": e} for p, e in pairs],
        )


__all__ = ["apply", "targets"]
