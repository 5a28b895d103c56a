"""Events fire trigger campaigns on both databases (CMP-12..19, ORD-1, ORD-5, ACT-6, TOK-8)."""

from __future__ import annotations

from pathlib import Path

from triggersupport import CLOCK, activities, person_ids, setup

from kampanj.engine.events import record_event
from kampanj.engine.runs import RunKind, RunStatus
from kampanj.model.activities import StandardActivity
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
