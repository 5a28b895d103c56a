"""People parked by a Wait: which are due, and waking them as one cohort (WAIT-7..9).

Waking is one transaction: the due members of one (run, next step, resume instant) become
active again under FRESH chunk numbers (max chunk + 1 …), so the progress markers their
remaining steps commit never collide with the markers of the chunks they waited in
(LEDG-1). The run itself is then continued by ``batch.resume_run`` (see engine/tick.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, exists, func, insert, select, update

from kampanj.engine.runs import MemberState, RunStatus
from kampanj.store.schema import RUN_MEMBER_WAITING, run, run_member, run_progress

_LEFT = (MemberState.ACTIVE.value, MemberState.WAITING.value)


@dataclass(frozen=True, kw_only=True, slots=True)
class DueWait:
    """People of one run waiting at one step for one instant (WAIT-8)."""

    run_id: int
    """The run they wait in."""
    campaign_id: int
    """Its campaign (ORD-3 tie-break)."""
    next_step: str | None
    """Where they resume; None when the Wait was the flow's last step."""
    wake_at: datetime
    """Their resume time, fixed at entry (WAIT-7)."""
    people: int
    """How many."""


def members_left(connection: Connection, run_id: int) -> bool:
    """Whether anyone of the run still has steps to take, waiting people included (GEN-6)."""
    statement = select(exists().where(run_member.c.run_id == run_id, run_member.c.state.in_(_LEFT)))
    return bool(connection.execute(statement).scalar_one())


def earliest_due(connection: Connection, now: datetime) -> DueWait | None:
    """The first group due at or before ``now``, by (resume time, campaign id, run id) (ORD-3)."""
    statement = (
        select(
            run_member.c.run_id,
            run.c.campaign_id,
            run_member.c.next_step,
            run_member.c.wake_at,
            func.count().label("people"),
        )
        .join(run, run.c.id == run_member.c.run_id)
        .where(
            RUN_MEMBER_WAITING,  # ix_run_member_wake's condition, so it is used
            run_member.c.wake_at <= now,
            run.c.status == RunStatus.RUNNING.value,
        )
        .group_by(run_member.c.run_id, run.c.campaign_id, run_member.c.next_step)
        .group_by(run_member.c.wake_at)
        .order_by(
            run_member.c.wake_at,
            run.c.campaign_id,
            run_member.c.run_id,
            run_member.c.next_step,
        )
        .limit(1)
    )
    row = connection.execute(statement).first()
    if row is None:
        return None
    return DueWait(
        run_id=row.run_id,
        campaign_id=row.campaign_id,
        next_step=row.next_step,
        wake_at=row.wake_at,
        people=row.people,
    )


def wake(connection: Connection, due: DueWait, chunk_size: int) -> int:
    """Make ``due``'s people active again in fresh chunks (one transaction); how many woke.

    People whose Wait was the last step leave the flow instead (FLOW-3).
    """
    group = and_(
        run_member.c.run_id == due.run_id,
        run_member.c.state == MemberState.WAITING.value,
        run_member.c.wake_at == due.wake_at,
        run_member.c.next_step.is_(None)
        if due.next_step is None
        else run_member.c.next_step == due.next_step,
    )
    if due.next_step is None:
        done = {"state": MemberState.COMPLETED.value, "wake_at": None}
        return int(connection.execute(update(run_member).where(group).values(done)).rowcount)
    first = (
        connection.execute(
            select(func.coalesce(func.max(run_member.c.chunk), -1)).where(
                run_member.c.run_id == due.run_id
            )
        ).scalar_one()
        + 1
    )
    people = list(
        connection.execute(
            select(run_member.c.person_id, run_member.c.entry_id)
            .where(group)
            .order_by(run_member.c.person_id, run_member.c.entry_id)
        )
    )
    taken = _steps_before(connection, due.run_id, due.next_step)
    # One UPDATE per fresh chunk, over a contiguous person-id range of the group.
    for start in range(0, len(people), chunk_size):
        part = people[start : start + chunk_size]
        low, high = part[0].person_id, part[-1].person_id
        chunk = first + start // chunk_size
        connection.execute(
            update(run_member)
            .where(group, run_member.c.person_id.between(low, high))
            # wake_at stays: a worker executing the fresh chunk runs it at that instant
            # (GEN-4, engine/handoff.py chunk_clock); only waiting members are ever due.
            .values(state=MemberState.ACTIVE.value, chunk=chunk)
        )
        if taken:
            # Everyone in the fresh chunk took these steps in the chunk they waited in: the
            # markers say so, and the engine does not visit them again for nobody.
            connection.execute(
                insert(run_progress),
                [
                    {
                        "run_id": due.run_id,
                        "chunk": chunk,
                        "call_path": step,
                        "committed_at": due.wake_at,
                    }
                    for step in taken
                ],
            )
    return len(people)


def _steps_before(connection: Connection, run_id: int, step_id: str) -> list[str]:
    """Ids of the pinned flow's steps before ``step_id`` (none for runs without a pin)."""
    snapshot = connection.execute(select(run.c.flow_snapshot).where(run.c.id == run_id)).scalar()
    ids = [str(step["id"]) for step in snapshot or ()]
    return ids[: ids.index(step_id)] if step_id in ids else []
