"""Request Campaign, as a step and from outside, on both databases (REQ-1..14, TOK-16..18)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from triggersupport import CLOCK, activities, person_ids, runs, setup

from kampanj.engine.activation import deactivate
from kampanj.engine.batch import run_batch
from kampanj.engine.requests import request_campaign
from kampanj.engine.runs import RunKind, RunStatus
from kampanj.engine.triggers import drain
from kampanj.errors import UserError
from kampanj.model.activities import StandardActivity
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.tokens.overrides import OverrideRequest

TARGETS = """\
      - name: Target
        smartList:
          triggers:
            - Campaign is Requested: {Source: is Marketo Flow Action}
          filters:
            - Lead Score: {at least: 20}
        flow:
          - Interesting Moment:
              type: Web
              description: "{{my.Greeting}} {{trigger.Source}} {{campaign.name}}"
        schedule: {qualification: every time}
      - name: Api Target
        smartList:
          triggers:
            - Campaign is Requested: {Source: is Web Service API}
        flow:
          - Interesting Moment: {type: Web, description: "{{my.Greeting}}"}
        schedule: {qualification: every time}
      - name: Caller
        smartList:
          filters:
            - Lead Score: {at least: 10}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+1"}
          - Request Campaign: {campaign: Target}
          - Request Campaign: {campaign: Api Target}
          - Add to List: Hot
        schedule: {qualification: every time}
"""


def test_step_requests_each_person_and_the_target_runs_in_its_own_context(
    database: Database, tmp_path: Path
) -> None:
    """REQ-2, REQ-3, REQ-6, REQ-8, REQ-9: one 47 per person; accepted ones run the target
    per person; a target refusing the source is logged not accepted with a warning."""
    setup(database, tmp_path, TARGETS, "Target", "Api Target")
    started = run_batch(database, CLOCK, "Caller")
    assert started.result.status is RunStatus.COMPLETED
    codes = [w["code"] for w in started.result.warnings]
    assert codes == ["REQUEST_NOT_ACCEPTED"]
    requests = activities(database, activity_type_id=StandardActivity.REQUEST_CAMPAIGN)
    assert len(requests) == 12  # 6 people x 2 steps
    to_target = [r for r in requests if r["primary_attribute_value"] == "Target"]
    assert all(r["attributes"]["Accepted"] is True for r in to_target)
    assert all("Reason" not in r["attributes"] for r in to_target)
    assert {r["attributes"]["Source"] for r in requests} == {"Marketo Flow Action"}
    refused = [r for r in requests if r["primary_attribute_value"] == "Api Target"]
    assert {r["attributes"]["Reason"] for r in refused} == {"source not accepted"}
    assert {r["attributes"]["Accepted"] for r in refused} == {False}
    drain(database, CLOCK)
    requested = [r for r in runs(database) if r["kind"] == RunKind.REQUESTED.value]
    # Scores after +1: 11, 21, ... : five people pass Target's filter, one run each (REQ-9)
    assert len(requested) == 5
    assert all(r["status"] == RunStatus.COMPLETED.value for r in requested)
    moments = activities(database, activity_type_id=StandardActivity.INTERESTING_MOMENT)
    assert {m["attributes"]["Description"] for m in moments} == {"Hello Marketo Flow Action Target"}


def test_request_from_outside_runs_with_overrides_that_do_not_leak(
    database: Database, tmp_path: Path
) -> None:
    """API-18, TOK-16, TOK-18: overrides reach that run only; duplicates once, unknown
    people skipped with a warning; every request is logged."""
    setup(database, tmp_path, TARGETS, "Api Target")
    people = person_ids(database)
    first = request_campaign(
        database,
        CLOCK,
        "Api Target",
        [people[2], people[0], people[0], 99_999],
        tokens=[OverrideRequest(name="{{my.Greeting}}", value="Howdy")],
        wait=True,
    )
    assert first.requested == (people[0], people[2])
    assert first.qualified == (people[0], people[2])
    assert {w.code for w in first.warnings} == {"DUPLICATE_PEOPLE", "UNKNOWN_PEOPLE"}
    (ran,) = first.results
    assert ran.run_id == first.run_id and ran.kind is RunKind.REQUESTED
    assert ran.status is RunStatus.COMPLETED and ran.cohort == 2
    second = request_campaign(database, CLOCK, "Api Target", [people[1]], wait=True)
    moments = activities(database, activity_type_id=StandardActivity.INTERESTING_MOMENT)
    by_run = {(m["run_id"], m["attributes"]["Description"]) for m in moments}
    assert by_run == {(first.run_id, "Howdy"), (second.run_id, "Hello")}
    with database.read() as connection:
        logged = list(connection.execute(sa.select(schema.campaign_request)).mappings())
    assert [(r["accepted"], r["run_id"]) for r in logged] == [
        (True, first.run_id),
        (True, second.run_id),
    ]


def test_request_over_100_people_is_rejected_whole(database: Database, tmp_path: Path) -> None:
    """API-17: more than 100 people (or tokens) refuses the call; nothing is written."""
    setup(database, tmp_path, TARGETS, "Api Target")
    people = person_ids(database)
    before = len(activities(database))
    with pytest.raises(UserError, match="at most 100 people"):
        request_campaign(database, CLOCK, "Api Target", [people[0]] * 101)
    tokens = [OverrideRequest(name=f"my.T{n}", value="x") for n in range(101)]
    with pytest.raises(UserError, match="at most 100 people and 100 tokens"):
        request_campaign(database, CLOCK, "Api Target", [people[0]], tokens=tokens)
    assert len(activities(database)) == before
    assert runs(database) == []
    with database.read() as connection:
        assert connection.execute(sa.select(schema.campaign_request)).first() is None


def test_target_not_accepting_the_source_is_not_run_and_logged(
    database: Database, tmp_path: Path
) -> None:
    """REQ-3, REQ-5: a target whose trigger does not accept Web Service API is not run; the
    request is logged as not accepted; an inactive target likewise (reason inactive)."""
    setup(database, tmp_path, TARGETS, "Target")
    people = person_ids(database)
    with pytest.raises(UserError, match="source not accepted"):
        request_campaign(database, CLOCK, "Target", [people[3]])
    with pytest.raises(UserError, match="inactive"):
        request_campaign(database, CLOCK, "Api Target", [people[3]])
    assert runs(database) == []
    assert activities(database, activity_type_id=StandardActivity.REQUEST_CAMPAIGN) == []
    with database.read() as connection:
        logged = list(connection.execute(sa.select(schema.campaign_request)).mappings())
    assert [(r["accepted"], r["reason"], r["run_id"]) for r in logged] == [
        (False, "source not accepted", None),
        (False, "inactive", None),
    ]


def test_acceptance_is_decided_when_the_step_commits(database: Database, tmp_path: Path) -> None:
    """REQ-10: deactivating the target after the step does not cancel the requested run."""
    setup(database, tmp_path, TARGETS, "Target")
    run_batch(database, CLOCK, "Caller")
    deactivate(database, CLOCK, "Target")
    drain(database, CLOCK)
    requested = [r for r in runs(database) if r["kind"] == RunKind.REQUESTED.value]
    assert len(requested) == 5
