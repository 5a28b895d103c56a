"""Scheduled and recurring runs, ticks and aborts on both databases (CMP-6/8..11, CMP-29)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from enginesupport import build
from test_waits import PEOPLE, T0, WAIT_FLOW, list_size, members, world

from kampanj.clock import FixedClock
from kampanj.engine.abort import abort_campaign, abort_run
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import RunKind, RunStatus, create_run, list_runs, load_result
from kampanj.engine.schedule import (
    ScheduleStatus,
    cancel,
    list_scheduled,
    schedule_run,
    start,
    upcoming,
)
from kampanj.engine.tick import tick
from kampanj.errors import UserError
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from kampanj.tokens.overrides import OverrideRequest

SIMPLE_FLOW = """\
          - Change Score: {scoreName: Lead Score, change: "{{my.Bonus}}"}
"""
TRIGGERED = """\
      - name: Trig
        smartList: {triggers: [Person is Created]}
        flow: [{Interesting Moment: {type: Web, description: x}}]
      - name: Exe
        executable: true
        smartList: {filters: [{Lead Score: {at least: 1}}]}
        flow: [{Interesting Moment: {type: Web, description: x}}]
"""


def with_token(text: str) -> str:
    return text.replace(
        "    lists:\n", "    tokens:\n      Bonus: {type: score, value: '+1'}\n    lists:\n"
    )


def score_sum(database: Database) -> int:
    with database.read() as connection:
        statement = sa.select(sa.func.sum(sa.column("lead_score"))).select_from(
            sa.table("person", sa.column("lead_score"))
        )
        return int(connection.execute(statement).scalar_one())


def test_scheduled_runs_start_once_when_due(database: Database, tmp_path: Path) -> None:
    """CMP-8: any time ≥ now (naive = account zone), several pending may coexist, refusals;
    the tick starts each once at its due time (GEN-4) with its overrides (TOK-18)."""
    build(database.url, tmp_path, with_token(world(SIMPLE_FLOW, extra=TRIGGERED)), PEOPLE)
    clock = FixedClock(T0)
    first = schedule_run(
        database,
        clock,
        "C",
        "2026-03-02T10:00:00",
        overrides=[OverrideRequest(name="{{my.Bonus}}", value="+100")],
    )
    second = schedule_run(database, clock, "C", "2026-03-02T11:00:00+00:00")
    assert first.scheduled.run_at == T0 + timedelta(hours=1)
    assert first.scheduled.token_overrides == {"Bonus": "+100"}
    assert first.scheduled.status is ScheduleStatus.PENDING
    for name, at, words in (
        ("C", "2026-03-02T08:59:59Z", "in the past"),
        ("C", "tomorrow", "not a time"),
        ("Trig", "2026-03-03", "trigger"),
        ("Exe", "2026-03-03", "executable"),
    ):
        with pytest.raises(UserError, match=words):
            schedule_run(database, clock, name, at)
    with database.read() as connection:
        assert [s.id for s in list_scheduled(connection)] == [
            first.scheduled.id,
            second.scheduled.id,
        ]

    assert tick(database, FixedClock(T0 + timedelta(minutes=59))).actions == []
    report = tick(database, FixedClock(T0 + timedelta(hours=1, minutes=30)))
    assert [(a["action"], a["scheduledId"]) for a in report.actions] == [
        ("started", first.scheduled.id)
    ]
    assert score_sum(database) == sum(range(1, 8)) + 700
    with database.read() as connection:
        (started,) = list_runs(connection)
        assert started["started_at"] == T0 + timedelta(hours=1)
        assert started["token_overrides"] == {"Bonus": "+100"}
        assert [s.id for s in list_scheduled(connection)] == [second.scheduled.id]
    assert tick(database, FixedClock(T0 + timedelta(hours=1, minutes=30))).actions == []

    cancelled = cancel(database, second.scheduled.id)
    assert cancelled.status is ScheduleStatus.CANCELLED
    with pytest.raises(UserError, match="not pending"):
        cancel(database, first.scheduled.id)
    assert tick(database, FixedClock(T0 + timedelta(days=1))).actions == []


def test_ties_start_by_campaign_id(database: Database, tmp_path: Path) -> None:
    """ORD-3: scheduled runs due at the same instant start by campaign id, not by insertion."""
    extra = """\
      - name: D
        smartList:
          filters:
            - Lead Score: {at least: 1}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+1"}
"""
    build(database.url, tmp_path, with_token(world(SIMPLE_FLOW, extra=extra)), PEOPLE)
    clock = FixedClock(T0)
    late = schedule_run(database, clock, "D", "2026-03-02T10:00:00Z")
    early = schedule_run(database, clock, "C", "2026-03-02T10:00:00Z")
    report = tick(database, FixedClock(T0 + timedelta(hours=2)))
    campaigns = [a["campaignId"] for a in report.actions]
    assert campaigns == sorted(campaigns)
    assert [a["scheduledId"] for a in report.actions] == [early.scheduled.id, late.scheduled.id]


def test_recurrence_starts_each_occurrence_once(database: Database, tmp_path: Path) -> None:
    """CMP-10: every due occurrence starts once however often ticks run; CMP-6: maxMembers
    is checked anew for every occurrence."""
    schedule = """\
        schedule:
          qualification: every time
          maxMembers: 7
          recurrence: {startAt: "2026-03-02T09:00:00Z", intervalType: Daily, interval: 1}
"""
    text = with_token(world(SIMPLE_FLOW)).replace(
        "        schedule: {qualification: every time}\n", schedule
    )
    build(database.url, tmp_path, text, PEOPLE)
    report = tick(database, FixedClock(T0 + timedelta(days=1, hours=1)))
    assert [a["action"] for a in report.actions] == [
        "occurrence",
        "occurrence",
        "started",
        "started",
    ]
    assert tick(database, FixedClock(T0 + timedelta(days=1, hours=2))).actions == []
    assert score_sum(database) == sum(range(1, 8)) + 14
    with database.read() as connection:
        listed = upcoming(read_definitions(connection), T0, connection)
    assert [item["runAt"] for item in listed] == [T0 + timedelta(days=2)]
    # An eighth person: the next occurrence is blocked (CMP-6), the one after is not.
    build(database.url, tmp_path, "", "email,leadScore\np8@x.com,8\n")
    report = tick(database, FixedClock(T0 + timedelta(days=2)))
    assert [a.get("status") for a in report.actions] == [None, "blocked"]
    with database.read() as connection:
        statuses = [r["status"] for r in list_runs(connection)]
        occurrences = connection.execute(
            sa.select(schema.scheduled_run.c.occurrence_key).order_by(schema.scheduled_run.c.id)
        ).scalars()
        assert len(set(occurrences)) == 3
    assert statuses == ["blocked", "completed", "completed"]


def test_abort_drops_waiting_people_and_keeps_done_steps(
    database: Database, tmp_path: Path
) -> None:
    """CMP-29, WAIT-9: aborted runs take no further step; waiting people are removed;
    completed steps stay; pending scheduled runs stay; executables are refused (EXE-20)."""
    build(database.url, tmp_path, world(WAIT_FLOW, extra=TRIGGERED), PEOPLE)
    result = run_batch(database, FixedClock(T0), "C").result
    pending = schedule_run(database, FixedClock(T0), "C", "2026-03-05T00:00:00Z")
    aborted = abort_run(database, FixedClock(T0 + timedelta(hours=1)), result.run_id)
    assert aborted.status is RunStatus.ABORTED and aborted.waiting == 0
    assert aborted.finished_at == T0 + timedelta(hours=1)
    assert {m["state"] for m in members(database, result.run_id)} == {"removed"}
    assert score_sum(database) == sum(range(1, 8)) + 70  # s1 is not undone
    with pytest.raises(UserError, match="already aborted"):
        abort_run(database, FixedClock(T0), result.run_id)
    with pytest.raises(UserError, match="EXE-20"):
        abort_campaign(database, FixedClock(T0), "Exe")
    report = tick(database, FixedClock(T0 + timedelta(days=2)))
    assert [a["action"] for a in report.actions] == []
    assert list_size(database) == 0
    with database.read() as connection:
        assert [s.id for s in list_scheduled(connection)] == [pending.scheduled.id]


def test_abort_campaign_during_a_run_stops_the_next_chunk(
    database: Database, tmp_path: Path
) -> None:
    """CMP-29: an abort between two chunks of a step: the rest never executes, and aborting
    every unfinished run of the campaign reports each run it aborted."""
    build(database.url, tmp_path, world(WAIT_FLOW), PEOPLE)
    waiting = run_batch(database, FixedClock(T0), "C").result

    def abort_all(call_path: str, chunk: int) -> None:
        if (call_path, chunk) == ("s1", 0):
            aborted = abort_campaign(database, FixedClock(T0), "C")
            assert not aborted.deactivated  # a batch campaign has nothing to deactivate
            assert len(aborted.results) == 2
            assert waiting.run_id in {r.run_id for r in aborted.results}

    second = run_batch(database, FixedClock(T0), "C", chunk_size=3, on_chunk=abort_all).result
    assert second.status is RunStatus.ABORTED
    assert second.steps["s1"].executed == 3 and second.steps["s2"].executed == 0
    with database.read() as connection:
        assert load_result(connection, waiting.run_id).status is RunStatus.ABORTED
    assert {m["state"] for m in members(database, second.run_id)} == {"removed"}


def test_a_scheduled_run_is_claimed_once(database: Database, tmp_path: Path) -> None:
    """CMP-8, LEDG-4: two ticks racing for one due run: the claim in the run-creating
    transaction lets exactly one start it; the loser's run row is rolled back."""
    build(database.url, tmp_path, with_token(world(SIMPLE_FLOW)), PEOPLE)
    pending = schedule_run(database, FixedClock(T0), "C", "2026-03-02T10:00:00Z").scheduled
    first = start(database, pending)
    second = start(database, pending)  # the same row, as a slower tick saw it
    assert first.started is not None and second.started is None and second.refused is None
    assert second.scheduled.run_id == first.started.result.run_id
    with database.read() as connection:
        assert [r["id"] for r in list_runs(connection)] == [first.started.result.run_id]
    assert score_sum(database) == sum(range(1, 8)) + 7


def test_a_start_still_qualifying_is_not_taken_for_a_dead_one(
    database: Database, tmp_path: Path
) -> None:
    """LEDG-4 with several workers (PostgreSQL): a tick overlapping a start whose
    qualification is still running (its process holds the start's advisory lock) leaves
    the queued run alone; once that process is gone, the next tick restarts it."""
    if database.dialect != "postgresql":
        pytest.skip("the advisory lock exists on PostgreSQL; SQLite serialises writers")
    build(database.url, tmp_path, with_token(world(SIMPLE_FLOW)), PEOPLE)
    pending = schedule_run(database, FixedClock(T0), "C", "2026-03-02T10:00:00Z").scheduled
    with database.begin() as connection:
        starting = create_run(
            connection, campaign_id=pending.campaign_id, kind=RunKind.BATCH, now=T0, overrides={}
        )
        connection.execute(
            sa.update(schema.scheduled_run)
            .where(schema.scheduled_run.c.id == pending.id)
            .values(status="started", run_id=starting)
        )
    starter = sa.create_engine(database.url, poolclass=sa.pool.NullPool)
    with starter.connect() as other:  # another process, still inside `start`
        other.execute(sa.select(sa.func.pg_advisory_lock(0x4B53, pending.id)))
        other.commit()
        report = tick(database, FixedClock(T0 + timedelta(hours=2)))
        assert [a["action"] for a in report.actions] == []
        with database.read() as connection:
            assert load_result(connection, starting).status is RunStatus.QUEUED
    starter.dispose()  # the process died: its session lock is gone
    report = tick(database, FixedClock(T0 + timedelta(hours=2)))
    assert [a["action"] for a in report.actions] == ["restarted", "started"]
    assert score_sum(database) == sum(range(1, 8)) + 7


def test_a_start_killed_before_qualification_starts_again(
    database: Database, tmp_path: Path
) -> None:
    """LEDG-4: a process died after claiming a scheduled run but before its qualification
    committed (the run is still queued): the next tick closes that run and starts anew."""
    build(database.url, tmp_path, with_token(world(SIMPLE_FLOW)), PEOPLE)
    pending = schedule_run(database, FixedClock(T0), "C", "2026-03-02T10:00:00Z").scheduled
    with database.begin() as connection:
        orphan = create_run(
            connection, campaign_id=pending.campaign_id, kind=RunKind.BATCH, now=T0, overrides={}
        )
        connection.execute(
            sa.update(schema.scheduled_run)
            .where(schema.scheduled_run.c.id == pending.id)
            .values(status="started", run_id=orphan)
        )
    report = tick(database, FixedClock(T0 + timedelta(hours=2)))
    assert [a["action"] for a in report.actions] == ["restarted", "started"]
    with database.read() as connection:
        closed = load_result(connection, orphan)
        restarted = load_result(connection, report.actions[1]["runId"])
    assert closed.status is RunStatus.ABORTED
    assert [e["code"] for e in closed.errors] == ["RUN_START_INTERRUPTED"]
    assert restarted.status is RunStatus.COMPLETED and restarted.qualified == 7
    assert score_sum(database) == sum(range(1, 8)) + 7
