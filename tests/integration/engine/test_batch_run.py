"""Batch runs on both databases: qualification, each step's rules, results, crash safety."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from enginesupport import PEOPLE, WORLD, build, end_state

from kampanj.clock import FixedClock
from kampanj.engine.batch import resume_run, run_batch
from kampanj.engine.runs import RunStatus, load_result
from kampanj.errors import UserError
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _activities(database: Database, type_id: int) -> list[Any]:
    with database.read() as connection:
        return list(
            connection.execute(
                sa.select(schema.activity)
                .where(schema.activity.c.activity_type_id == type_id)
                .order_by(schema.activity.c.id)
            ).mappings()
        )


def _person(database: Database, person_id: int) -> Any:
    with database.read() as connection:
        person = person_table(load_field_registry(connection))
        statement = sa.select(person).where(person.c.id == person_id)
        return connection.execute(statement).mappings().one()


def _world(flow: str, *, filters: str = "- Lead Score: {at least: 0}", schedule: str = "") -> str:
    return f"""\
workspace: Default
folders:
  - name: F
    tokens:
      Bonus: {{type: score, value: "+7"}}
    lists:
      - name: Hot
    campaigns:
      - name: C
        smartList:
          filters:
            {filters}
        flow:
{flow}
{schedule}
"""


def test_world_run_counts_and_end_state(database: Database, tmp_path: Path) -> None:
    """FLOW-2/8/9/11, ACT-5: choices partition with the first match, Do Nothing skipped."""
    build(database.url, tmp_path)
    started = run_batch(database, FixedClock(T0), "Nightly", chunk_size=3)
    result = started.result
    assert result.status is RunStatus.COMPLETED
    assert (result.cohort, result.qualified) == (6, 6)  # person 6 has a negative score
    s1 = result.steps["s1"]
    # b (60, Narnia) takes choice 1 before choice 2; d (0, Narnia) takes choice 2.
    assert dict(s1.choices) == {"1": 4, "2": 1, "default": 1}
    assert (s1.executed, s1.skipped, dict(s1.skip_reasons)) == (5, 1, {"do nothing": 1})
    assert _person(database, 2)["title"] == "Hot Lead"
    assert _person(database, 4)["title"] is None
    assert _person(database, 1)["title"] == "Lead"
    moment = _activities(database, 46)
    assert [(a["person_id"], a["attributes"]["Description"]) for a in moment][:2] == [
        (1, "Scored 17"),
        (2, "Scored 67"),
    ]
    assert moment[0]["attributes"]["Reason"] == "Nightly: Interesting Moment"
    assert moment[0]["attributes"]["Source"] == "Marketo Flow Action"
    assert moment[0]["run_id"] == result.run_id and moment[0]["campaign_id"] is not None


def test_change_data_value_rules(database: Database, tmp_path: Path) -> None:
    """FLOW-13 (NULL clears, blank does nothing), FLOW-14 (per-person INVALID_VALUE),
    FLOW-15 (13 only on actual change, with Old/New Value), FLOW-6 (the person continues)."""
    flow = """\
          - Change Data Value: {attribute: City, newValue: "NULL"}
          - Change Data Value: {attribute: Title, newValue: "   "}
          - Change Data Value: {attribute: Title, newValue: Boss}
          - Change Data Value: {attribute: Behavior Score, newValue: "{{lead.First Name}}"}
          - Interesting Moment: {type: Web, description: still here}
"""
    people = "email,firstName,leadScore,title,city\na@x.com,12,1,Boss,Oslo\nb@x.com,Bo,2,,\n"
    build(database.url, tmp_path, _world(flow), people)
    result = run_batch(database, FixedClock(T0), "C").result
    assert _person(database, 1)["city"] is None and _person(database, 2)["city"] is None
    changes = _activities(database, 13)
    summary = [
        (a["person_id"], a["attributes"]["Attribute Name"], a["attributes"].get("Old Value"))
        for a in changes
    ]
    assert summary == [(1, "City", "Oslo"), (2, "Job Title", None), (1, "Behavior Score", None)]
    assert changes[2]["attributes"]["New Value"] == "12"
    assert result.steps["s2"].executed == 2  # blank: applied, nothing changed
    assert [(e["code"], e["personId"], e["stepId"]) for e in result.errors] == [
        ("INVALID_VALUE", 2, "s4")
    ]
    assert result.steps["s4"].errors == 1 and result.steps["s4"].executed == 1
    assert {a["person_id"] for a in _activities(database, 46)} == {1, 2}


def test_change_score_rules(database: Database, tmp_path: Path) -> None:
    """FLOW-16 grammar (+N, -N, =N, =-N, spaces; INVALID_CHANGE), FLOW-17 clamp with
    SCORE_CLAMPED and a 22 for every applied change, a zero change included."""
    flow = """\
          - Change Score: {scoreName: Lead Score, change: " =-5 "}
          - Change Score: {scoreName: Lead Score, change: "+0"}
          - Change Score: {scoreName: Behavior Score, change: "-{{lead.First Name}}"}
          - Change Score: {scoreName: Lead Score, change: "+2147483647"}
"""
    people = "email,firstName,leadScore\na@x.com,3000000000,1\nb@x.com,Bo,2\n"
    build(database.url, tmp_path, _world(flow), people)
    result = run_batch(database, FixedClock(T0), "C").result
    scores = [
        (
            a["person_id"],
            a["attributes"]["Score Name"],
            a["attributes"]["Old Value"],
            a["attributes"]["New Value"],
        )
        for a in _activities(database, 22)
    ]
    assert scores == [
        (1, "Lead Score", "1", "-5"),
        (2, "Lead Score", "2", "-5"),
        (1, "Lead Score", "-5", "-5"),
        (2, "Lead Score", "-5", "-5"),
        (1, "Behavior Score", "0", str(-(2**31))),
        (1, "Lead Score", "-5", "2147483642"),
        (2, "Lead Score", "-5", "2147483642"),
    ]
    assert [(e["code"], e["personId"]) for e in result.errors] == [("INVALID_CHANGE", 2)]
    assert [(w["code"], w["personId"], w["stepId"]) for w in result.warnings] == [
        ("SCORE_CLAMPED", 1, "s3")
    ]
    assert _person(database, 1)["c_behavior_score"] == -(2**31)


def test_list_steps_write_only_on_change(database: Database, tmp_path: Path) -> None:
    """FLOW-23: Add to List / Remove from List write 24 / 25 only when membership changes."""
    flow = """\
          - Add to List: Hot
          - Add to List: Hot
          - Remove from List: Hot
          - Remove from List: Hot
"""
    build(database.url, tmp_path, _world(flow), "email,leadScore\na@x.com,1\nb@x.com,2\n")
    run_batch(database, FixedClock(T0), "C")
    assert [a["person_id"] for a in _activities(database, 24)] == [1, 2]
    assert [a["person_id"] for a in _activities(database, 25)] == [1, 2]
    assert _activities(database, 24)[0]["primary_attribute_value"] == "Hot"
    with database.read() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(schema.list_member)).scalar()
            == 0
        )


def test_person_deleted_meanwhile_is_skipped(database: Database, tmp_path: Path) -> None:
    """FLOW-7: a person deleted after qualification is skipped with 'person deleted'."""
    flow = """\
          - Interesting Moment: {type: Web, description: one}
          - Interesting Moment: {type: Web, description: two}
"""
    build(
        database.url, tmp_path, _world(flow), "email,leadScore\na@x.com,1\nb@x.com,2\nc@x.com,3\n"
    )

    def delete_b(call_path: str, chunk: int) -> None:
        if call_path == "s1" and chunk == 0:
            with database.begin() as connection:
                connection.execute(sa.delete(schema.person).where(schema.person.c.id == 2))

    result = run_batch(database, FixedClock(T0), "C", chunk_size=2, on_chunk=delete_b).result
    assert result.steps["s2"].skip_reasons == {"person deleted": 1}
    assert result.steps["s2"].executed == 2
    assert [a["person_id"] for a in _activities(database, 46)] == [1, 2, 3, 1, 3]


def test_max_members_blocks_the_run(database: Database, tmp_path: Path) -> None:
    """CMP-6: more qualified people than maxMembers → blocked, nothing executed or recorded."""
    flow = "          - Interesting Moment: {type: Web, description: x}\n"
    schedule = "        schedule: {maxMembers: 1}"
    build(
        database.url,
        tmp_path,
        _world(flow, schedule=schedule),
        "email,leadScore\na@x.com,1\nb@x.com,2\n",
    )
    result = run_batch(database, FixedClock(T0), "C").result
    assert result.status is RunStatus.BLOCKED and result.qualified == 2
    assert result.errors[0]["code"] == "MAX_MEMBERS"
    assert _activities(database, 46) == []
    with database.read() as connection:
        for table in (schema.campaign_member, schema.run_member):
            assert connection.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0


@pytest.mark.parametrize(
    ("rule", "second", "third"),
    [("once", 0, 0), ("every time", 2, 2), ("{every: 2 days}", 0, 2)],
)
def test_qualification_rules(
    database: Database, tmp_path: Path, rule: str, second: int, third: int
) -> None:
    """CMP-17/18: once, every time, interval from the last qualification; CMP-20 membership
    created at the first and updated at the latest qualification."""
    flow = "          - Interesting Moment: {type: Web, description: x}\n"
    schedule = f"        schedule: {{qualification: {rule}}}"
    build(
        database.url,
        tmp_path,
        _world(flow, schedule=schedule),
        "email,leadScore\na@x.com,1\nb@x.com,2\n",
    )
    clock = FixedClock(T0)
    # GEN-6: the cohort is who the smart list matches, whoever the rule lets through.
    first = run_batch(database, clock, "C").result
    assert (first.cohort, first.qualified) == (2, 2)
    clock.set(T0 + timedelta(days=1))
    again = run_batch(database, clock, "C").result
    assert (again.cohort, again.qualified) == (2, second)
    clock.set(T0 + timedelta(days=2, minutes=1))
    last = run_batch(database, clock, "C").result
    assert (last.cohort, last.qualified) == (2, third)
    with database.read() as connection:
        members = connection.execute(sa.select(schema.campaign_member)).mappings().all()
    assert {m["created_at"] for m in members} == {T0}
    latest = (
        T0 + timedelta(days=2, minutes=1) if third else (T0 + timedelta(days=1) if second else T0)
    )
    assert {m["updated_at"] for m in members} == {latest}


def test_refusals_write_nothing(database: Database, tmp_path: Path) -> None:
    """CMP-8: trigger, executable and default campaigns are refused before anything is
    written."""
    world = """\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: Trig
        smartList: {triggers: [Person is Created]}
        flow: [{Interesting Moment: {type: Web, description: x}}]
      - name: Exe
        executable: true
        smartList: {filters: [{Lead Score: {at least: 1}}]}
        flow: [{Interesting Moment: {type: Web, description: x}}]
      - name: Dflt
        flow: [{Interesting Moment: {type: Web, description: x}}]
"""
    build(database.url, tmp_path, world, "email,leadScore\na@x.com,1\n")
    for name, words in (
        ("Trig", "trigger"),
        ("Exe", "executable"),
        ("Dflt", "default-type"),
    ):
        with pytest.raises(UserError, match=words):
            run_batch(database, FixedClock(T0), name)
    with database.read() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(schema.run)).scalar() == 0


class _Crash(Exception):
    pass


def test_interrupted_run_resumes_to_the_same_end_state(database: Database, tmp_path: Path) -> None:
    """GEN-5, LEDG-1/2/4: a run that dies between chunks resumes at the first uncommitted
    (step, chunk); the end state equals an uninterrupted run's, with no duplicated activity."""
    reference = Database(f"sqlite:///{tmp_path / 'reference.db'}")
    reference.migrate()
    (tmp_path / "ref").mkdir()
    build(reference.url, tmp_path / "ref")
    run_batch(reference, FixedClock(T0), "Nightly", chunk_size=2)
    expected = end_state(reference)
    reference.dispose()

    build(database.url, tmp_path)
    committed: list[tuple[str, int]] = []

    def crash(call_path: str, chunk: int) -> None:
        committed.append((call_path, chunk))
        if len(committed) == 5:  # step s2 has committed chunk 0 and 1 of 4
            raise _Crash

    with pytest.raises(_Crash):
        run_batch(database, FixedClock(T0), "Nightly", chunk_size=2, on_chunk=crash)
    with database.read() as connection:
        run_id = connection.execute(sa.select(sa.func.max(schema.run.c.id))).scalar_one()
        assert load_result(connection, run_id).status is RunStatus.RUNNING
    result = resume_run(database, FixedClock(T0), run_id)
    assert result.status is RunStatus.COMPLETED
    assert end_state(database) == expected
    assert result.steps["s2"].executed == 6  # counted once per person, not per attempt
    assert max(end_state(database)["activities"].values()) == 1
    assert WORLD and PEOPLE  # the reference used the same world
