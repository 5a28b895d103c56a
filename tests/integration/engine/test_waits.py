"""Wait steps on both databases: parking, resuming by tick, flow pinning (WAIT-1..10, CMP-15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from enginesupport import build, end_state

from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import RunStatus, load_result
from kampanj.engine.tick import tick
from kampanj.store import schema
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
PEOPLE = "email,leadScore\n" + "".join(f"p{n}@x.com,{n}\n" for n in range(1, 8))


def world(flow: str, *, name: str = "C", extra: str = "") -> str:
    return f"""\
workspace: Default
folders:
  - name: F
    lists:
      - name: Hot
      - name: Cold
    campaigns:
      - name: {name}
        smartList:
          filters:
            - Lead Score: {{at least: 1}}
        flow:
{flow}
        schedule: {{qualification: every time}}
{extra}"""


WAIT_FLOW = """\
          - Change Score: {scoreName: Lead Score, change: "+10"}
          - Wait: 1 day
          - Add to List: Hot
          - Interesting Moment: {type: Web, description: "back with {{lead.Lead Score}}"}
"""


def fresh_dir(parent: Path, name: str) -> Path:
    directory = parent / name
    directory.mkdir()
    return directory


def members(database: Database, run_id: int) -> list[Any]:
    with database.read() as connection:
        return list(
            connection.execute(
                sa.select(schema.run_member)
                .where(schema.run_member.c.run_id == run_id)
                .order_by(schema.run_member.c.person_id)
            ).mappings()
        )


def activity_rows(database: Database, type_id: int | None = None) -> list[Any]:
    activity = schema.activity
    statement = sa.select(activity).where(activity.c.campaign_id.is_not(None))
    if type_id is not None:
        statement = statement.where(activity.c.activity_type_id == type_id)
    with database.read() as connection:
        return list(connection.execute(statement.order_by(activity.c.id)).mappings())


def list_size(database: Database) -> int:
    with database.read() as connection:
        statement = sa.select(sa.func.count()).select_from(schema.list_member)
        return int(connection.execute(statement).scalar_one())


def test_wait_parks_then_tick_resumes_at_the_due_time(database: Database, tmp_path: Path) -> None:
    """WAIT-3/7/10: the Wait writes nothing, the run stays running and counts the waiting;
    a tick before the end does nothing; the tick after resumes them as one cohort (WAIT-8)
    with the clock at the due time (GEN-4), and the run completes (GEN-6)."""
    build(database.url, tmp_path, world(WAIT_FLOW), PEOPLE)
    result = run_batch(database, FixedClock(T0), "C", chunk_size=3).result
    assert result.status is RunStatus.RUNNING and result.waiting == 7
    assert result.steps["s2"].executed == 7 and result.steps["s3"].executed == 0
    assert {a["activity_type_id"] for a in activity_rows(database)} == {22}  # no Wait activity
    parked = members(database, result.run_id)
    assert {(m["state"], m["next_step"], m["wake_at"]) for m in parked} == {
        ("waiting", "s3", T0 + timedelta(days=1))
    }

    early = tick(database, FixedClock(T0 + timedelta(hours=23)))
    assert early.actions == [] and list_size(database) == 0

    later = FixedClock(T0 + timedelta(days=1, hours=5))
    report = tick(database, later)
    assert [a["action"] for a in report.actions] == ["woke"]
    assert report.actions[0]["people"] == 7
    with database.read() as connection:
        done = load_result(connection, result.run_id)
    assert done.status is RunStatus.COMPLETED and done.waiting == 0
    assert done.steps["s3"].executed == 7 and done.steps["s4"].executed == 7
    assert done.finished_at == T0 + timedelta(days=1)
    assert list_size(database) == 7
    moments = activity_rows(database, 46)
    assert {m["activity_date"] for m in moments} == {T0 + timedelta(days=1)}
    assert moments[0]["attributes"]["Description"] == "back with 11"
    # Woken people took fresh chunks: one progress marker per (chunk, step), none reused.
    woken = {m["chunk"] for m in members(database, result.run_id)}
    assert woken == {3, 4, 5}  # 7 people in chunks 0..2 before the Wait
    with database.read() as connection:
        markers = {
            (row.chunk, row.call_path): row.committed_at
            for row in connection.execute(sa.select(schema.run_progress))
        }
    assert set(markers) == {(c, s) for c in range(6) for s in ("s1", "s2", "s3", "s4")}
    # The steps they took before waiting are marked at wake time, never executed again.
    assert {markers[(c, s)] for c in woken for s in ("s1", "s2")} == {T0 + timedelta(days=1)}
    assert done.steps["s1"].executed == 7 and done.steps["s2"].executed == 7
    assert tick(database, later).actions == []  # nothing is resumed twice


def test_waiting_changes_nothing_but_timing(database: Database, tmp_path: Path) -> None:
    """GEN-2: the end state with a Wait equals the end state of the same flow without it."""
    build(database.url, tmp_path, world(WAIT_FLOW), PEOPLE)
    run_batch(database, FixedClock(T0), "C", chunk_size=2)
    tick(database, FixedClock(T0 + timedelta(days=2)))
    reference = Database(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        build(
            reference.url,
            fresh_dir(tmp_path, "ref"),
            world(WAIT_FLOW.replace("Wait: 1 day", "Wait: 1 minute")),
            PEOPLE,
        )
        run_batch(reference, FixedClock(T0), "C", chunk_size=5)
        tick(reference, FixedClock(T0 + timedelta(minutes=1)))
        assert end_state(database) == end_state(reference)
    finally:
        reference.dispose()


def test_past_date_means_no_wait_and_a_last_wait_completes(
    database: Database, tmp_path: Path
) -> None:
    """WAIT-5: a date not in the future at entry is no wait; a Wait as the last step parks
    people until its end, after which they leave the flow (FLOW-3)."""
    flow = """\
          - Wait: {date: "2026-03-01"}
          - Add to List: Hot
          - Wait: {date: "2026-03-05T12:00:00+01:00"}
"""
    build(database.url, tmp_path, world(flow), PEOPLE)
    result = run_batch(database, FixedClock(T0), "C").result
    assert list_size(database) == 7
    assert result.status is RunStatus.RUNNING and result.waiting == 7
    assert {m["wake_at"] for m in members(database, result.run_id)} == {
        datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
    }
    tick(database, FixedClock(datetime(2026, 3, 6, tzinfo=UTC)))
    with database.read() as connection:
        done = load_result(connection, result.run_id)
    assert done.status is RunStatus.COMPLETED and done.waiting == 0
    assert {m["state"] for m in members(database, result.run_id)} == {"completed"}


def test_end_on_weekday_in_the_account_time_zone(database: Database, tmp_path: Path) -> None:
    """WAIT-4: Monday 09:00 UTC + 1 day, end on Friday at 08:00 (account zone) → Friday."""
    flow = """\
          - Wait: {duration: 1 day, endOn: {weekdays: [Friday], at: "08:00"}}
          - Add to List: Hot
"""
    build(database.url, tmp_path, world(flow), PEOPLE)
    result = run_batch(database, FixedClock(T0), "C").result
    assert {m["wake_at"] for m in members(database, result.run_id)} == {
        datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    }
    tick(database, FixedClock(datetime(2026, 3, 6, 7, 59, tzinfo=UTC)))
    assert list_size(database) == 0
    tick(database, FixedClock(datetime(2026, 3, 6, 8, 0, tzinfo=UTC)))
    assert list_size(database) == 7


def test_one_tick_processes_successive_waits_in_due_order(
    database: Database, tmp_path: Path
) -> None:
    """GEN-4: waits falling due during a tick's own work are resumed in the same tick, each
    at its due time (second Wait measured from the first one's end)."""
    flow = """\
          - Wait: 1 hour
          - Interesting Moment: {type: Web, description: one}
          - Wait: 2 hours
          - Interesting Moment: {type: Web, description: two}
"""
    build(database.url, tmp_path, world(flow), PEOPLE)
    result = run_batch(database, FixedClock(T0), "C").result
    report = tick(database, FixedClock(T0 + timedelta(hours=5)))
    assert [a["wakeAt"] for a in report.actions] == [
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=3),
    ]
    dates = {(m["attributes"]["Description"], m["activity_date"]) for m in activity_rows(database)}
    assert dates == {("one", T0 + timedelta(hours=1)), ("two", T0 + timedelta(hours=3))}
    with database.read() as connection:
        assert load_result(connection, result.run_id).status is RunStatus.COMPLETED


def test_date_token_wait_per_person(database: Database, tmp_path: Path) -> None:
    """WAIT-6 through the engine: each person's own date plus offset; an empty value is no
    wait with WAIT_TOKEN_EMPTY; a past result is no wait. Lint keeps date-token waits out
    of batch campaigns, so the Wait is swapped into the run's pinned flow (CMP-15)."""
    text = world(WAIT_FLOW.replace("Wait: 1 day", "Wait: 1 minute")).replace(
        "workspace: Default\n",
        "workspace: Default\nfields:\n  - {name: renewal, displayName: Renewal, type: date}\n",
    )
    people = "email,leadScore,renewal\na@x.com,1,2026-03-10\nb@x.com,2,\nc@x.com,3,2026-02-01\n"
    build(database.url, tmp_path, text, people)
    run_id = run_batch(database, FixedClock(T0), "C").result.run_id
    with database.begin() as connection:
        snapshot = connection.execute(
            sa.select(schema.run.c.flow_snapshot).where(schema.run.c.id == run_id)
        ).scalar_one()
        snapshot[2] = {
            "id": "s3",
            "type": "Wait",
            "params": {"token": "{{lead.Renewal}}", "offsetDays": "-2"},
            "doNothing": False,
            "choices": [],
        }
        connection.execute(
            sa.update(schema.run).where(schema.run.c.id == run_id).values(flow_snapshot=snapshot)
        )
    tick(database, FixedClock(T0 + timedelta(minutes=1)))
    by_person = {m["person_id"]: m for m in members(database, run_id)}
    assert by_person[1]["state"] == "waiting"
    assert by_person[1]["wake_at"] == datetime(2026, 3, 8, tzinfo=UTC)
    assert [by_person[p]["state"] for p in (2, 3)] == ["completed", "completed"]
    with database.read() as connection:
        result = load_result(connection, run_id)
    assert [(w["code"], w["personId"]) for w in result.warnings] == [("WAIT_TOKEN_EMPTY", 2)]
    assert result.status is RunStatus.RUNNING and result.waiting == 1


def test_people_keep_the_flow_of_their_qualification(database: Database, tmp_path: Path) -> None:
    """CMP-15, WAIT-7/8: editing the campaign while people wait changes neither their path
    nor their resume time; a new run uses the new flow."""
    build(database.url, tmp_path, world(WAIT_FLOW), PEOPLE)
    first = run_batch(database, FixedClock(T0), "C").result
    edited = """\
          - Wait: 3 days
          - Add to List: Cold
"""
    build(database.url, fresh_dir(tmp_path, "edit"), world(edited), "")
    tick(database, FixedClock(T0 + timedelta(days=1)))
    with database.read() as connection:
        assert load_result(connection, first.run_id).status is RunStatus.COMPLETED
        hot_cold = dict(
            connection.execute(
                sa.select(schema.static_list.c.name, sa.func.count())
                .join(schema.list_member, schema.list_member.c.list_id == schema.static_list.c.id)
                .group_by(schema.static_list.c.name)
            ).all()
        )
    assert hot_cold == {"Hot": 7}
    assert len(activity_rows(database, 46)) == 7  # the old s4 ran
    second = run_batch(database, FixedClock(T0 + timedelta(days=2)), "C").result
    assert second.waiting == 7 and set(second.steps) == {"s1", "s2"}
