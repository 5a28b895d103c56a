"""Events fire trigger campaigns on both databases (CMP-12..19, ORD-1, ORD-5, ACT-6, TOK-8)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from enginesupport import build, end_state
from triggersupport import CLOCK, T0, activities, person_ids, runs, setup, world

from kampanj.clock import FixedClock
from kampanj.engine.events import record_event
from kampanj.engine.runs import RunKind, RunStatus
from kampanj.engine.tick import tick
from kampanj.engine.triggers import dispatch, drain
from kampanj.model.activities import StandardActivity
from kampanj.store import schema
from kampanj.store.database import Database

VISITORS = """\
      - name: Visitors
        smartList:
          triggers:
            - Visits Web Page: {Web Page: {contains: pricing}}
          filters:
            - Lead Score: {at least: 20}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+5"}
          - Interesting Moment:
              type: Web
              description: >-
                {{trigger.Trigger Name}} {{trigger.Name}} {{trigger.Webpage URL}}
                {{my.Greeting}}
        schedule: {qualification: every time}
"""


def test_event_fires_a_trigger_run_that_completes_with_trigger_tokens(
    database: Database, tmp_path: Path
) -> None:
    """CMP-14, TOK-8: an event starts a trigger run with cohort {person}."""
    setup(database, tmp_path, VISITORS, "Visitors")
    person = person_ids(database)[1]  # score 20
    recorded = record_event(
        database,
        CLOCK,
        "Visit Webpage",
        person_id=person,
        primary="pricing.html",
        attributes={"Webpage URL": "https://x.com/pricing"},
        wait=True,
    )
    assert [e.kind for e in recorded.enqueued] == [RunKind.TRIGGER]
    (result,) = recorded.results
    assert result.status is RunStatus.COMPLETED
    assert result.trigger_activity_id == recorded.activity_id
    assert (result.cohort, result.qualified) == (1, 1)
    (moment,) = activities(database, activity_type_id=StandardActivity.INTERESTING_MOMENT)
    assert moment["person_id"] == person
    assert moment["attributes"]["Description"] == (
        "Visits Web Page pricing.html https://x.com/pricing Hello"
    )


def _moments(database: Database) -> list[tuple[int, str]]:
    return [
        (m["person_id"], m["attributes"].get("Description", ""))
        for m in activities(database, activity_type_id=StandardActivity.INTERESTING_MOMENT)
    ]


def test_filters_and_qualification_are_checked_at_trigger_time(
    database: Database, tmp_path: Path
) -> None:
    """CMP-14, CMP-17, CMP-18: the filter rejects a low score (consuming nothing); `once`
    lets a person in only the first time; a trigger constraint that fails fires nothing."""
    once = VISITORS.replace("every time", "once")
    setup(database, tmp_path, once, "Visitors")
    low, high = person_ids(database)[0], person_ids(database)[2]  # scores 10, 30
    visit = {"primary": "pricing.html"}
    assert not record_event(database, CLOCK, 1, person_id=low, wait=True, **visit).enqueued
    assert not record_event(
        database, CLOCK, 1, person_id=high, primary="about.html", wait=True
    ).enqueued
    first = record_event(database, CLOCK, 1, person_id=high, wait=True, **visit)
    again = record_event(database, CLOCK, 1, person_id=high, wait=True, **visit)
    assert len(first.enqueued) == 1 and not again.enqueued
    assert [p for p, _ in _moments(database)] == [high]


ORDERED = """\
      - name: Low First
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Change Data Value: {attribute: Title, newValue: "{{lead.Title}}L"}
        schedule: {qualification: every time}
      - name: Medium
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Change Data Value: {attribute: Title, newValue: "{{lead.Title}}M"}
        schedule: {qualification: every time, priorityOverride: Medium}
      - name: High
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Interesting Moment: {type: Web, description: x}
          - Change Data Value: {attribute: Title, newValue: "{{lead.Title}}H"}
        schedule: {qualification: every time, priorityOverride: High}
      - name: Default Medium
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Add to List: Hot
          - Change Data Value: {attribute: Title, newValue: "{{lead.Title}}D"}
        schedule: {qualification: every time}
"""


def _titles(database: Database) -> dict[int, str | None]:
    with database.read() as connection:
        return dict(connection.execute(sa.text("select id, title from person order by id")).all())


def test_several_campaigns_on_one_event_run_in_priority_then_id_order(
    database: Database, tmp_path: Path
) -> None:
    """ORD-1, CMP-16: High, then Medium (override and default) by id, then Low."""
    setup(database, tmp_path, ORDERED, "Low First", "Medium", "High", "Default Medium")
    person = person_ids(database)[0]
    recorded = record_event(database, CLOCK, "Visit Webpage", person_id=person, wait=True)
    assert len(recorded.enqueued) == 4
    assert _titles(database)[person] == "HMDL"
    assert [r.status for r in recorded.results] == [RunStatus.COMPLETED] * 4


def test_micro_batched_cohort_equals_single_runs(database: Database, tmp_path: Path) -> None:
    """ORD-5, GEN-2: N events dispatched together (one cohort per campaign where a person's
    order allows) end in the same state and activity multiset as N events one by one."""
    campaigns = ("Low First", "Medium", "High", "Default Medium")
    reference_dir = tmp_path / "one-by-one"
    reference_dir.mkdir()
    reference = Database(f"sqlite:///{reference_dir / 'r.db'}")
    reference.migrate()
    try:
        setup(reference, reference_dir, ORDERED, *campaigns)
        events = [*person_ids(reference)[:3], person_ids(reference)[0], person_ids(reference)[3]]
        for person in events:
            record_event(reference, CLOCK, "Visit Webpage", person_id=person, wait=True)
        one_by_one = end_state(reference)
    finally:
        reference.dispose()

    setup(database, tmp_path, ORDERED, *campaigns)
    with database.begin() as connection:  # all five committed before any dispatch
        for person in events:
            connection.execute(
                sa.insert(schema.activity).values(
                    person_id=person, activity_type_id=1, activity_date=T0, attributes={}
                )
            )
    report = dispatch(database, CLOCK)
    assert report.offered == 5
    assert len(report.enqueued) < len(events) * len(campaigns)
    assert any(len(e.person_ids) > 1 for e in report.enqueued)
    drain(database, CLOCK)
    batched = end_state(database)
    assert batched["people"] == one_by_one["people"]
    assert batched["lists"] == one_by_one["lists"]
    assert batched["activities"] == one_by_one["activities"]


PINNED = """\
      - name: Pinned
        smartList:
          triggers:
            - Visits Web Page: {}
        flow:
          - Interesting Moment: {type: Web, description: "one"}
          - Wait: 1 day
          - Interesting Moment: {type: Web, description: "two"}
        schedule: {qualification: every time}
"""


def test_trigger_runs_keep_the_flow_of_their_qualification(
    database: Database, tmp_path: Path
) -> None:
    """CMP-15: a person keeps the flow current when they qualified — across a Wait, and
    for a run enqueued but not yet executed when the campaign is edited; people who
    qualify after the edit take the new flow."""
    setup(database, tmp_path, PINNED, "Pinned")
    waiting, queued, later = person_ids(database)[:3]
    record_event(database, CLOCK, "Visit Webpage", person_id=waiting, wait=True)
    record_event(database, CLOCK, "Visit Webpage", person_id=queued)  # enqueued only
    edited = PINNED.replace('"one"', '"one, edited"').replace('"two"', '"two, edited"')
    edit_dir = tmp_path / "edit"
    edit_dir.mkdir()
    build(database.url, edit_dir, world(edited), "")
    drain(database, CLOCK)
    record_event(database, CLOCK, "Visit Webpage", person_id=later, wait=True)
    tick(database, FixedClock(T0 + timedelta(days=1)))
    assert sorted(_moments(database)) == sorted(
        [
            (waiting, "one"),
            (waiting, "two"),
            (queued, "one"),
            (queued, "two"),
            (later, "one, edited"),
            (later, "two, edited"),
        ]
    )
    assert {r["status"] for r in runs(database)} == {RunStatus.COMPLETED.value}
