"""One scheduler tick (GEN-4, ORD-3, LEDG-4): recover, then every due Wait and scheduled run.

1. Recover what a dead process left: scheduled starts that never qualified run again;
   ``running`` runs with active members (or nobody left, but not yet completed) resume at
   their first uncommitted (step, chunk).
2. Deactivate trigger campaigns whose ``expiresAt`` has come, once the activities recorded
   so far were offered to them (CMP-22), and, with setting ``autoCleanup``, once per quarter
   the idle ones (CMP-23, engine/auto_cleanup.py); record recurrence occurrences due by now
   as pending scheduled runs (CMP-10; ``expiresAt`` ends a recurrence).
3. Repeatedly take the earliest due item — a group of people waiting in one run at one
   step for one instant, or a pending scheduled run — ordered by due time, campaign id,
   then run (ORD-3), and process it with the clock set to its due time (GEN-4). Resumed
   people may wait again; anything due by now is processed in the same tick.

With a work queue (``to``, the sweep of `kampanj worker`) the tick executes no run
itself: interrupted runs, started trigger / requested runs, woken Waits and started
scheduled runs are sent to the workers chunk by chunk (engine/handoff.py); workers share
the tick through leases (engine/worker.py, engine/leases.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, select

from kampanj.clock import Clock, FixedClock
from kampanj.engine import delivery, faults, handoff, triggers
from kampanj.engine.auto_cleanup import clean_up
from kampanj.engine.batch import finish_run, resume_run
from kampanj.engine.cohort import still_running
from kampanj.engine.runs import MemberState, RunStatus, load_run_row
from kampanj.engine.schedule import (
    Scheduled,
    add_due_occurrences,
    expire_trigger_campaigns,
    next_pending,
    recover_interrupted_starts,
    start,
)
from kampanj.engine.waits import DueWait, earliest_due, wake
from kampanj.store.database import Database
from kampanj.store.schema import run, run_member


@dataclass(kw_only=True, slots=True)
class TickReport:
    """What one tick did, in order."""

    actions: list[dict[str, Any]] = field(default_factory=list)

    def add(self, action: str, **details: Any) -> None:
        self.actions.append({"action": action, **details})

    def to_json(self) -> dict[str, Any]:
        return {"actions": list(self.actions)}


def interrupted_runs(connection: Connection) -> list[int]:
    """Running runs a dead process left: someone active, or nobody active or waiting."""
    member = run_member.c.run_id == run.c.id
    active = exists().where(member, run_member.c.state == MemberState.ACTIVE.value)
    waiting = exists().where(member, run_member.c.state == MemberState.WAITING.value)
    statement = (
        select(run.c.id)
        .where(run.c.status == RunStatus.RUNNING.value, active | ~waiting)
        .order_by(run.c.id)
    )
    return list(connection.execute(statement).scalars())


def tick(database: Database, clock: Clock, *, to: handoff.Handoff | None = None) -> TickReport:
    """Run one tick at ``clock.now()``; see the module docstring.

    Without ``to`` every run is executed here, inline; with it, runs are only started and
    their chunks sent to the workers (engine/handoff.py).
    """
    now = clock.now()
    report = TickReport()
    for run_id in recover_interrupted_starts(database, now):
        report.add("restarted", runId=run_id)
    _recover(database, clock, report, to)
    _drain_triggered(database, clock, report, to)
    for campaign_id in expire_trigger_campaigns(database, clock):  # after their activities
        report.add("expired", campaignId=campaign_id)
    cleanup = clean_up(database, clock)  # after their qualifications, like expiry
    if cleanup is not None and cleanup.ran:
        report.add("autoCleanup", **cleanup.to_report())
    for scheduled in add_due_occurrences(database, now):
        report.add("occurrence", scheduledId=scheduled.id, campaignId=scheduled.campaign_id)
    while True:
        with database.read() as connection:
            due_wait = earliest_due(connection, now)
            due_run = next_pending(connection, now)
        if due_wait is None and due_run is None:
            _drain_triggered(database, clock, report, to)
            delivered = delivery.deliver(database, clock)  # outbox rows (LEDG-3, HOOK-9)
            if delivered.rows:
                report.add("delivered", **delivery.summary(delivered))
                _drain_triggered(database, clock, report, to)  # Webhook is Called (HOOK-8)
            return report
        if due_run is None or (due_wait is not None and _wait_key(due_wait) <= _run_key(due_run)):
            assert due_wait is not None
            _resume_wait(database, clock, due_wait, report, to)
        else:
            _start(database, clock, due_run, report, to)


def _recover(
    database: Database, clock: Clock, report: TickReport, to: handoff.Handoff | None
) -> None:
    """Running runs a dead process left: executed here, or their chunks re-sent."""
    if to is None:
        with database.read() as connection:
            interrupted = interrupted_runs(connection)
        for run_id in interrupted:
            result = resume_run(database, clock, run_id)
            report.add("resumed", runId=run_id, status=result.status.value)
        return
    sent = handoff.resend(database, clock, to)
    if sent:
        report.add("resent", chunks=sent)
    with database.read() as connection:
        settled = handoff.settled_runs(connection)
    for run_id in settled:
        result = finish_run(database, clock, run_id, finished=True)
        report.add("resumed", runId=run_id, status=result.status.value)


def _drain_triggered(
    database: Database, clock: Clock, report: TickReport, to: handoff.Handoff | None
) -> None:
    """Offer new activities to triggers, then run (inline) or start (queue) queued trigger
    and requested runs, oldest first (ORD-3)."""
    if to is None:
        for result in triggers.drain(database, clock):
            report.add("triggered", runId=result.run_id, status=result.status.value)
        return
    to.dispatch(database, clock)
    for run_id in handoff.start_queued(database, clock, to):  # sent to the workers
        report.add("triggered", runId=run_id, status=RunStatus.RUNNING.value)


def _wait_key(due: DueWait) -> tuple[datetime, int, int, int]:
    return (due.wake_at, due.campaign_id, 0, due.run_id)


def _run_key(scheduled: Scheduled) -> tuple[datetime, int, int, int]:
    return (scheduled.run_at, scheduled.campaign_id, 1, scheduled.id)


def _resume_wait(
    database: Database,
    clock: Clock,
    due: DueWait,
    report: TickReport,
    to: handoff.Handoff | None,
) -> None:
    """WAIT-8: the group wakes as one cohort, then the run continues at its due time."""
    with database.begin() as connection:
        if not still_running(connection, due.run_id):
            return  # aborted meanwhile: abort removes waiting people too (CMP-29)
        chunk_size = int(load_run_row(connection, due.run_id)["chunk_size"])
        woke = wake(connection, due, chunk_size)
    faults.hit("after-wake", due.run_id)
    if to is None:
        result = resume_run(database, FixedClock(due.wake_at), due.run_id)
    else:  # the workers run the fresh chunks at due.wake_at (handoff.chunk_clock)
        result = handoff.hand_over(database, clock, due.run_id, to)
    report.add(
        "woke",
        runId=due.run_id,
        step=due.next_step,
        wakeAt=due.wake_at,
        people=woke,
        status=result.status.value,
    )


def _start(
    database: Database,
    clock: Clock,
    scheduled: Scheduled,
    report: TickReport,
    to: handoff.Handoff | None,
) -> None:
    outcome = start(database, scheduled, execute_now=to is None)
    if outcome.refused is not None:
        report.add("refused", scheduledId=scheduled.id, reason=outcome.refused)
    elif outcome.started is not None:
        result = outcome.started.result
        if to is not None and result.status is RunStatus.RUNNING:
            result = handoff.hand_over(database, clock, result.run_id, to)
        report.add(
            "started",
            scheduledId=scheduled.id,
            runId=result.run_id,
            campaignId=result.campaign_id,
            runAt=scheduled.run_at,
            status=result.status.value,
        )
