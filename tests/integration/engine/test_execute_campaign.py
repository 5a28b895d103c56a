"""Execute Campaign on the cohort engine, both databases (EXE-6..21, FLOW-12)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from enginesupport import build, park
from executesupport import (
    PEOPLE,
    activities,
    build_forced,
    campaign_ids,
    members,
    person,
    scratch_rows,
    world,
)
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import RunKind, RunStatus, create_run, set_status
from kampanj.smartlist.evaluation import load_smart_list, member_ids
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.tokens.overrides import OverrideRequest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXECUTE, CHANGE_SCORE, CHANGE_DATA_VALUE = 901, 22, 13

INLINE = world("""\
      - name: Parent
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Execute Campaign: {campaign: Child}
          - Change Data Value:
              attribute: Title
              newValue: Small
              choices:
                - {if: {Lead Score: {at least: 15}}, newValue: Big}
        schedule: {qualification: every time}
      - name: Child
        executable: true
        smartList: {filters: [{Lead Score: {at least: 10}}]}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+5"}
          - Add to List: Hot
""")


def test_child_runs_inline_before_the_parent_continues(database: Database, tmp_path: Path) -> None:
    """EXE-6 (parent choices see the child's change), EXE-8 (filters narrow the handed-over
    people), EXE-10 (one 901 each, before child steps), EXE-11 (membership, the rejected
    continue with the parent), EXE-17 (child activities carry the child's id)."""
    build(database.url, tmp_path, INLINE, PEOPLE)
    ids = campaign_ids(database)
    result = run_batch(database, FixedClock(T0), "Parent", chunk_size=2).result
    assert result.status is RunStatus.COMPLETED
    assert list(result.steps) == ["s1", "s1/s1", "s1/s2", "s2"]
    assert result.steps["s1"].executed == 3
    assert result.steps["s1/s1"].executed == 2
    assert dict(result.steps["s2"].choices) == {"1": 2, "default": 1}
    assert [person(database, i)["lead_score"] for i in (1, 2, 3)] == [15, 3, 17]
    assert [person(database, i)["title"] for i in (1, 2, 3)] == ["Big", "Small", "Big"]
    log = activities(database, 1)
    assert [(a["activity_type_id"], a["campaign_id"]) for a in log] == [
        (EXECUTE, ids["Parent"]),
        (CHANGE_SCORE, ids["Child"]),
        (24, ids["Child"]),
        (CHANGE_DATA_VALUE, ids["Parent"]),
    ]
    first = log[0]
    assert (first["primary_attribute_value"], first["primary_attribute_value_id"]) == (
        "Child",
        ids["Child"],
    )
    assert first["attributes"]["Qualified"] is True
    assert first["attributes"]["Depth"] == 1
    assert first["attributes"]["Parent Campaign ID"] == ids["Parent"]
    assert first["attributes"]["Use Parent Token Context"] is False
    assert "Reason" not in first["attributes"]
    rejected = activities(database, 2)
    assert [a["activity_type_id"] for a in rejected] == [EXECUTE, CHANGE_DATA_VALUE]
    assert rejected[0]["attributes"]["Qualified"] is False
    assert rejected[0]["attributes"]["Reason"] == "smart list"
    assert members(database, ids["Child"]) == {1, 3}
    assert scratch_rows(database) == 0


def test_campaign_was_executed_filter_reads_the_activity(
    database: Database, tmp_path: Path
) -> None:
    """EXE-22: the Campaign was Executed filter matches the 901 written by a call."""
    executed = """\
    smartLists:
      - name: Rejected By Child
        filters:
          - Campaign was Executed: {Campaign: {is: Child}, Qualified: is false, Depth: {is: 1}}
"""
    build(
        database.url,
        tmp_path,
        INLINE.replace("    lists:\n", executed + "    lists:\n", 1),
        PEOPLE,
    )
    run_batch(database, FixedClock(T0), "Parent")
    with database.read() as connection:
        loaded = load_smart_list(connection, FixedClock(T0), "Rejected By Child")
        assert member_ids(connection, loaded) == [2]


CHAIN = """\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: T
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Change Data Value: {attribute: Trail, newValue: "{{lead.Trail}}>T"}
          - Execute Campaign: {campaign: E1}
          - Change Data Value: {attribute: Trail, newValue: "{{lead.Trail}}>T.end"}
        schedule: {qualification: every time}
%s"""


def _level(name: str, calls: str | None) -> str:
    steps = (
        "          - Change Data Value: "
        f'{{attribute: Trail, newValue: "{{{{lead.Trail}}}}>{name}"}}\n'
    )
    if calls:
        steps += f"          - Execute Campaign: {{campaign: {calls}}}\n"
        steps += (
            f'          - Change Data Value: {{attribute: Trail, newValue: "{{{{lead.Trail}}}}>'
            f'{name}.end"}}\n'
        )
    return (
        f"      - name: {name}\n        executable: true\n"
        f"        schedule: {{qualification: every time}}\n        flow:\n{steps}"
    )


def test_fourth_level_is_refused_statically_and_at_run_time(
    database: Database, tmp_path: Path
) -> None:
    """WX-2, EXE-15 (lint: EXE_DEPTH), EXE-14 (forced: Qualified false 'depth limit', one
    DEPTH_LIMIT error per person, the callers continue, members of 1-3 only)."""
    levels = "".join(
        _level(name, calls)
        for name, calls in (("E1", "E2"), ("E2", "E3"), ("E3", "E4"), ("E4", None))
    )
    text = CHAIN % levels
    path = tmp_path / "chain.yaml"
    path.write_text(text, encoding="utf-8")
    linted = CliRunner().invoke(app, ["lint", str(path), "--json"])
    assert linted.exit_code == 1
    assert "EXE_DEPTH" in linted.output
    build_forced(database.url, tmp_path, text, "email,trail\ne@x.com,\n")
    ids = campaign_ids(database)
    result = run_batch(database, FixedClock(T0), "T").result
    assert result.status is RunStatus.COMPLETED
    assert person(database, 1)["trail"] == ">T>E1>E2>E3>E3.end>E2.end>E1.end>T.end"
    assert [(e["code"], e["campaignId"], e["stepId"], e["personId"]) for e in result.errors] == [
        ("DEPTH_LIMIT", ids["E3"], "s2", 1)
    ]
    executes = [a for a in activities(database, 1) if a["activity_type_id"] == EXECUTE]
    assert [
        (a["primary_attribute_value"], a["attributes"]["Qualified"], a["attributes"]["Depth"])
        for a in executes
    ] == [("E1", True, 1), ("E2", True, 2), ("E3", True, 3), ("E4", False, 4)]
    assert executes[-1]["attributes"]["Reason"] == "depth limit"
    assert executes[-1]["attributes"]["Parent Campaign ID"] == ids["E3"]
    assert [bool(members(database, ids[n])) for n in ("T", "E1", "E2", "E3", "E4")] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert "s2/s2/s2/s1" in result.steps


REMOVAL = world("""\
      - name: Sweep
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Execute Campaign: {campaign: Gatekeeper}
          - Change Data Value: {attribute: Title, newValue: Swept}
        schedule: {qualification: every time}
      - name: Gatekeeper
        executable: true
        schedule: {qualification: every time}
        flow:
          - Execute Campaign: {campaign: Inner}
          - Add to List: Hot
      - name: Inner
        executable: true
        schedule: {qualification: every time}
        flow:
          - Remove from Flow:
              doNothing: true
              choices:
                - {if: {Lead Score: {at least: 10}}, campaigns: [this]}
          - Add to List: Cold
""")


def test_remove_from_flow_in_a_grandchild_leaves_every_caller(
    database: Database, tmp_path: Path
) -> None:
    """WX-3, EXE-18, FLOW-18/19: the person leaves the grandchild, the child and the top
    campaign; no further step of the run; one 903 naming the chain outermost first."""
    build(database.url, tmp_path, REMOVAL, PEOPLE)
    ids = campaign_ids(database)
    result = run_batch(database, FixedClock(T0), "Sweep", chunk_size=2).result
    assert result.status is RunStatus.COMPLETED
    assert dict(result.steps["s1/s1/s1"].choices) == {"1": 2, "default": 1}
    assert (result.steps["s1/s1/s2"].executed, result.steps["s1/s2"].executed) == (1, 1)
    assert result.steps["s2"].executed == 1
    removed = activities(database, 1)
    assert [a["activity_type_id"] for a in removed] == [EXECUTE, EXECUTE, 903]
    assert removed[-1]["attributes"]["Removed From"] == (
        f"{ids['Sweep']},{ids['Gatekeeper']},{ids['Inner']}"
    )
    assert removed[-1]["primary_attribute_value_id"] == ids["Inner"]
    assert removed[-1]["campaign_id"] == ids["Inner"]
    assert person(database, 1)["title"] is None
    kept = activities(database, 2)
    assert [a["activity_type_id"] for a in kept] == [EXECUTE, EXECUTE, 24, 24, 13]
    assert person(database, 2)["title"] == "Swept"
    assert members(database, ids["Inner"]) == {1, 2, 3}
    assert scratch_rows(database) == 0


def _waiting_instances(database: Database, campaign_id: int, person_ids: list[int]) -> int:
    """Another unfinished run of ``campaign_id`` where ``person_ids`` wait."""
    with database.begin() as connection:
        run_id = create_run(
            connection, campaign_id=campaign_id, kind=RunKind.BATCH, now=T0, overrides={}
        )
        set_status(connection, run_id, RunStatus.RUNNING, T0)
        park(connection, run_id, person_ids, next_step="s2", wake_at=T0)
    return run_id


def _states(database: Database, run_id: int) -> dict[int, str]:
    with database.read() as connection:
        rows = connection.execute(
            sa.select(schema.run_member.c.person_id, schema.run_member.c.state).where(
                schema.run_member.c.run_id == run_id
            )
        )
        return {row.person_id: row.state for row in rows}


def test_remove_from_flow_at_level_0_and_off_the_chain(database: Database, tmp_path: Path) -> None:
    """FLOW-18 at level 0 ("this" ends the person's run), REQ-11 (a campaign off the chain
    loses only its own instances), FLOW-19 (903 only when an instance ended)."""
    text = world("""\
      - name: Slow
        smartList: {filters: [{Lead Score: {at least: 10}}]}
        flow:
          - Add to List: Hot
          - Add to List: Cold
      - name: Sweep
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Remove from Flow: {campaigns: [Slow]}
          - Remove from Flow:
              doNothing: true
              choices: [{if: {Lead Score: {at least: 12}}, campaigns: [this]}]
          - Add to List: Cold
        schedule: {qualification: every time}
""")
    build(database.url, tmp_path, text, PEOPLE)
    ids = campaign_ids(database)
    slow = _waiting_instances(database, ids["Slow"], [1, 3])
    result = run_batch(database, FixedClock(T0), "Sweep").result
    assert result.status is RunStatus.COMPLETED
    ends = [a for a in activities(database) if a["activity_type_id"] == 903]
    assert [(a["person_id"], a["attributes"]["Removed From"]) for a in ends] == [
        (1, str(ids["Slow"])),
        (3, str(ids["Slow"])),
        (3, str(ids["Sweep"])),
    ]
    assert result.steps["s3"].executed == 2  # person 3 left at s2
    assert _states(database, slow) == {1: "removed", 3: "removed"}
    assert _states(database, result.run_id) == {1: "completed", 2: "completed", 3: "removed"}


def test_once_child_called_twice_and_from_two_parents(database: Database, tmp_path: Path) -> None:
    """EXE-21 (second call: Qualified false 'qualification rule'), EXE-9 (history per child
    across callers; the caller's own is independent; filter rejection consumes nothing)."""
    text = world("""\
      - name: P1
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Execute Campaign: {campaign: Once}
          - Change Score: {scoreName: Lead Score, change: "+10"}
          - Execute Campaign: {campaign: Once}
      - name: P2
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Execute Campaign: {campaign: Once}
      - name: Once
        executable: true
        smartList: {filters: [{Lead Score: {at least: 10}}]}
        flow:
          - Interesting Moment: {type: Web, description: once}
""")
    build(database.url, tmp_path, text, PEOPLE)
    run_batch(database, FixedClock(T0), "P1")
    run_batch(database, FixedClock(T0), "P2")
    reasons = {
        person_id: [
            a["attributes"].get("Reason", "qualified")
            for a in activities(database, person_id)
            if a["activity_type_id"] == EXECUTE
        ]
        for person_id in (1, 2, 3)
    }
    assert reasons == {
        1: ["qualified", "qualification rule", "qualification rule"],
        2: ["smart list", "qualified", "qualification rule"],  # 3 + 10 = 13 qualifies later
        3: ["qualified", "qualification rule", "qualification rule"],
    }
    moments = [a for a in activities(database) if a["activity_type_id"] == 46]
    assert sorted(a["person_id"] for a in moments) == [1, 2, 3]


TOKENS = """\
workspace: Default
folders:
  - name: F
    programs:
      - name: Events
        channel: Webinar
        tokens:
          Event Name: {type: text, value: Default Event}
          Points: {type: score, value: "+5"}
        campaigns:
          - name: Register
            smartList: {filters: [{Email Address: is not empty}]}
            flow:
              - Execute Campaign: {campaign: Stamp, useParentContext: true}
              - Execute Campaign: {campaign: Stamp, useParentContext: false}
            schedule: {qualification: every time}
      - name: Library
        channel: Webinar
        tokens:
          Event Name: {type: text, value: Library Event}
          Points: {type: score, value: "+1"}
        campaigns:
          - name: Stamp
            executable: true
            schedule: {qualification: every time}
            flow:
              - Change Data Value: {attribute: Title, newValue: "{{my.Event Name}}"}
              - Change Score: {scoreName: Lead Score, change: "{{my.Points}}"}
"""


def test_overrides_reach_a_parent_context_child_only(database: Database, tmp_path: Path) -> None:
    """WX-4, TOK-18, EXE-16: with context true the child sees the run's override and the
    caller's My Tokens; with false its own; overrides never leak to a later run."""
    build(database.url, tmp_path, TOKENS, "email,leadScore\nk@x.com,0\n")
    started = run_batch(
        database,
        FixedClock(T0),
        "Register",
        overrides=[OverrideRequest(name="{{my.Event Name}}", value="Summit 2026")],
    )
    assert started.result.status is RunStatus.COMPLETED
    log = activities(database, 1)
    changes = [
        (a["activity_type_id"], a["attributes"].get("New Value"))
        for a in log
        if a["activity_type_id"] in (CHANGE_DATA_VALUE, CHANGE_SCORE)
    ]
    assert changes == [
        (CHANGE_DATA_VALUE, "Summit 2026"),
        (CHANGE_SCORE, "5"),
        (CHANGE_DATA_VALUE, "Library Event"),
        (CHANGE_SCORE, "6"),
    ]
    contexts = [
        a["attributes"]["Use Parent Token Context"] for a in log if a["activity_type_id"] == EXECUTE
    ]
    assert contexts == [True, False]
    run_batch(database, FixedClock(T0), "Register")
    assert person(database, 1)["title"] == "Library Event"
    titles = [
        a["attributes"]["New Value"]
        for a in activities(database, 1)
        if a["activity_type_id"] == CHANGE_DATA_VALUE
    ]
    assert titles[2:] == ["Default Event", "Library Event"]


def test_interval_child_membership_is_refreshed_not_recreated(
    database: Database, tmp_path: Path
) -> None:
    """EXE-9 with an interval rule (CMP-17): the call inside the interval is refused with
    'qualification rule'; a later call qualifies again and refreshes the child's membership
    (EXE-11, CMP-20: created_at stays, updated_at moves)."""
    text = world("""\
      - name: Caller
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Execute Campaign: {campaign: Hourly}
        schedule: {qualification: every time}
      - name: Hourly
        executable: true
        smartList: {filters: [{Lead Score: {at least: 10}}]}
        flow:
          - Interesting Moment: {type: Web, description: hourly}
        schedule: {qualification: every 1 hour}
""")
    build(database.url, tmp_path, text, PEOPLE)
    later = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    for at in (T0, datetime(2026, 3, 2, 9, 30, tzinfo=UTC), later):
        run_batch(database, FixedClock(at), "Caller")
    reasons = [
        a["attributes"].get("Reason", "qualified")
        for a in activities(database, 1)
        if a["activity_type_id"] == EXECUTE
    ]
    assert reasons == ["qualified", "qualification rule", "qualified"]
    child = campaign_ids(database)["Hourly"]
    with database.read() as connection:
        member = schema.campaign_member
        rows = connection.execute(
            sa.select(member.c.person_id, member.c.created_at, member.c.updated_at)
            .where(member.c.campaign_id == child)
            .order_by(member.c.person_id)
        ).all()
    assert [tuple(row) for row in rows] == [(1, T0, later), (3, T0, later)]
