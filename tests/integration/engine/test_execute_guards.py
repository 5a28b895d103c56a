"""Call-time guards and choices of Execute Campaign, both databases (EXE-12, EXE-13, FLOW-12)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from enginesupport import build
from executesupport import PEOPLE, activities, build_forced, campaign_ids, members, person, world

from kampanj.clock import FixedClock
from kampanj.engine.abort import abort_run
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import RunStatus
from kampanj.store import schema
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXECUTE = 901

PARENT = """\
      - name: Parent
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Execute Campaign: {campaign: Child}
          - Add to List: Cold
        schedule: {qualification: every time}
"""


def _executes(database: Database) -> list[tuple[int, bool, str | None]]:
    return [
        (a["person_id"], a["attributes"]["Qualified"], a["attributes"].get("Reason"))
        for a in activities(database)
        if a["activity_type_id"] == EXECUTE
    ]


def test_invalid_child_smart_list_qualifies_nobody(database: Database, tmp_path: Path) -> None:
    """EXE-12: a forced child whose smart list is invalid: everyone Qualified false
    'invalid smart list', one CHILD_SMART_LIST_INVALID warning per call, the parent goes on."""
    text = world(
        PARENT
        + """\
      - name: Child
        executable: true
        smartList: {filters: [{Member of List: {in: [No Such List]}}]}
        flow:
          - Add to List: Hot
"""
    )
    build_forced(database.url, tmp_path, text)
    ids = campaign_ids(database)
    result = run_batch(database, FixedClock(T0), "Parent", chunk_size=2).result
    assert result.status is RunStatus.COMPLETED
    assert _executes(database) == [
        (1, False, "invalid smart list"),
        (2, False, "invalid smart list"),
        (3, False, "invalid smart list"),
    ]
    warnings = [w for w in result.warnings if w["code"] == "CHILD_SMART_LIST_INVALID"]
    assert len(warnings) == 2  # one per call: two chunks
    assert result.steps["s2"].executed == 3
    assert members(database, ids["Child"]) == set()
    assert not [
        a
        for a in activities(database)
        if a["activity_type_id"] == 24 and a["primary_attribute_value"] == "Hot"
    ]


def test_invalid_child_campaign_does_not_run(database: Database, tmp_path: Path) -> None:
    """EXE-13: a forced child with a flow error: Qualified false 'invalid campaign', run
    error CHILD_INVALID, nothing of the child runs, the caller continues."""
    text = world(
        PARENT
        + """\
      - name: Child
        executable: true
        flow:
          - Add to List: No Such List
"""
    )
    build_forced(database.url, tmp_path, text)
    result = run_batch(database, FixedClock(T0), "Parent").result
    assert result.status is RunStatus.COMPLETED
    assert {reason for _, _, reason in _executes(database)} == {"invalid campaign"}
    assert [e["code"] for e in result.errors] == ["CHILD_INVALID"]
    assert result.steps["s2"].executed == 3


def test_choices_call_children_in_choice_order(database: Database, tmp_path: Path) -> None:
    """FLOW-12, ORD-4: Execute Campaign with choices hands each partition to its child,
    choice 1 first; different children get distinct call paths (LEDG-1)."""
    text = world("""\
      - name: Router
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Execute Campaign:
              campaign: Low
              choices:
                - {if: {Lead Score: {at least: 11}}, campaign: High}
        schedule: {qualification: every time}
      - name: High
        executable: true
        flow: [{Change Data Value: {attribute: Title, newValue: high}}]
      - name: Low
        executable: true
        flow: [{Change Data Value: {attribute: Title, newValue: low}}]
""")
    build(database.url, tmp_path, text, PEOPLE)
    ids = campaign_ids(database)
    result = run_batch(database, FixedClock(T0), "Router").result
    assert dict(result.steps["s1"].choices) == {"1": 1, "default": 2}
    assert result.steps[f"s1@{ids['High']}/s1"].executed == 1
    assert result.steps[f"s1@{ids['Low']}/s1"].executed == 2
    assert [person(database, i)["title"] for i in (1, 2, 3)] == ["low", "low", "high"]
    executes = [a for a in activities(database) if a["activity_type_id"] == EXECUTE]
    # Choice 1's call (person 3) is written before the Default's (persons 1, 2).
    assert [(a["person_id"], a["primary_attribute_value"]) for a in executes] == [
        (3, "High"),
        (1, "Low"),
        (2, "Low"),
    ]


def test_step_error_inside_a_child_stops_nobody(database: Database, tmp_path: Path) -> None:
    """EXE-19, FLOW-6: a child step failing for one person is a run error naming the child;
    that person finishes the child and continues with the caller."""
    text = world(
        PARENT
        + """\
      - name: Child
        executable: true
        flow:
          - Change Score: {scoreName: Lead Score, change: "{{lead.Job Title}}"}
          - Add to List: Hot
"""
    )
    people = "email,leadScore,title\na@x.com,1,+5\nb@x.com,2,oops\n"
    build(database.url, tmp_path, text, people)
    ids = campaign_ids(database)
    result = run_batch(database, FixedClock(T0), "Parent").result
    assert result.status is RunStatus.COMPLETED
    assert [(e["code"], e["campaignId"], e["stepId"], e["personId"]) for e in result.errors] == [
        ("INVALID_CHANGE", ids["Child"], "s1", 2)
    ]
    assert result.steps["s1/s1"].errors == 1
    assert (result.steps["s1/s2"].executed, result.steps["s2"].executed) == (2, 2)
    assert [person(database, i)["lead_score"] for i in (1, 2)] == [6, 2]


def test_abort_stops_inline_children(database: Database, tmp_path: Path) -> None:
    """EXE-20, CMP-29: aborting the top run between chunks: no child step runs for the
    chunks left, and the run stays aborted."""
    text = world(
        PARENT
        + """\
      - name: Child
        executable: true
        flow:
          - Add to List: Hot
"""
    )
    build(database.url, tmp_path, text)

    def abort_after_first(call_path: str, chunk: int) -> None:
        if (call_path, chunk) == ("s1", 0):
            with database.read() as connection:
                run_id = connection.execute(sa.select(sa.func.max(schema.run.c.id))).scalar_one()
            abort_run(database, FixedClock(T0), run_id)

    result = run_batch(
        database, FixedClock(T0), "Parent", chunk_size=2, on_chunk=abort_after_first
    ).result
    assert result.status is RunStatus.ABORTED
    executed = [a["person_id"] for a in activities(database) if a["activity_type_id"] == EXECUTE]
    assert executed == [1, 2]
    assert result.steps["s1/s1"].executed == 2
    assert result.steps["s2"].executed == 0


def test_empty_value_fails_the_child_filter(database: Database, tmp_path: Path) -> None:
    """EXE-8: a filter that is unknown (NULL) for a person rejects them, as in a smart list."""
    text = world(
        PARENT
        + """\
      - name: Child
        executable: true
        smartList: {filters: [{Job Title: {contains: an}}]}
        flow:
          - Add to List: Hot
"""
    )
    build(database.url, tmp_path, text, "email,title\na@x.com,Anna\nb@x.com,\n")
    run_batch(database, FixedClock(T0), "Parent")
    assert _executes(database) == [(1, True, None), (2, False, "smart list")]
