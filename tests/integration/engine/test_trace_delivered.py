"""The run trace places activities written at delivery under the step that queued them
(PROV-3, MAIL-9, HOOK-5, HOOK-6): a Send Email (6) or Call Webhook (110) written after
later steps ran is matched by its step, not by its position in the activity log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from enginesupport import build
from typer.testing import CliRunner
from webhooksupport import build as build_hooks
from webhooksupport import hook_yaml, receiver

from kampanj.cli.app import app
from kampanj.clock import FixedClock
from kampanj.engine.activation import activate
from kampanj.engine.batch import run_batch
from kampanj.engine.delivery import deliver
from kampanj.engine.events import record_event
from kampanj.engine.tick import tick
from kampanj.model.activities import StandardActivity as A
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
runner = CliRunner()

MAIL_WORLD = """\
workspace: Default
folders:
  - name: F
    programs:
      - name: P
        emails:
          - {name: Hello, subject: Hi, fromEmail: hi@acme.example, html: "<p>Hi</p>", text: Hi}
        campaigns:
          - name: Child
            executable: true
            flow:
              - Send Email: Hello
              - Change Score: {scoreName: Behavior Score, change: "+1"}
          - name: Parent
            smartList: {filters: [{Email Address: is not empty}]}
            flow:
              - Send Email: Hello
              - Execute Campaign: {campaign: Child}
              - Change Data Value: {attribute: Trail, newValue: done}
"""

HOOK_WORLD = """\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: Visitors
        smartList:
          triggers:
            - Visits Web Page: {}
        flow:
          - Call Webhook: {webhook: Hook}
          - Change Data Value: {attribute: Order Count, newValue: "5"}
"""


def _trace(database: Database, run_id: int, person_id: int) -> dict[str, Any]:
    arguments = ["runs", "show", str(run_id), "--person", str(person_id), "--json"]
    result = runner.invoke(app, [*arguments, "--db", database.url])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _types(step: dict[str, Any]) -> list[int]:
    return [a["activityTypeId"] for a in step["activities"]]


def test_emails_delivered_after_later_steps_sit_under_their_steps(
    database: Database, tmp_path: Path
) -> None:
    """MAIL-9: Send Email (6) is written at delivery, after the run's last step; its Step ID
    (the LEDG-1 call path) puts it under s1 and under the child's s2/s1 (EXE-6)."""
    build(database.url, tmp_path, MAIL_WORLD, "email\na@x.com\n")
    run_id = run_batch(database, FixedClock(T0), "Parent").result.run_id
    deliver(database, FixedClock(T0 + timedelta(minutes=5)))
    document = _trace(database, run_id, 1)
    top = document["trace"]
    s1, s2, s3 = top["steps"]
    child = s2["call"]
    assert (_types(s1), _types(s2), _types(s3)) == (
        [A.SEND_EMAIL],
        [A.EXECUTE_CAMPAIGN],
        [A.CHANGE_DATA_VALUE],
    )
    assert [(s["callPath"], _types(s)) for s in child["steps"]] == [
        ("s2/s1", [A.SEND_EMAIL]),
        ("s2/s2", [A.CHANGE_SCORE]),
    ]
    assert document["unmatched"] == []
    sends = [s1["activities"][0], child["steps"][0]["activities"][0]]
    assert [a["attributes"]["Step ID"] for a in sends] == ["s1", "s2/s1"]
    # The scenario: both sends were written after the run's last step.
    assert min(a["id"] for a in sends) > s3["activities"][0]["id"]


def test_a_webhook_call_delivered_after_the_next_step_sits_under_its_step(
    database: Database, tmp_path: Path
) -> None:
    """HOOK-5/6: the 110 and the Change Data Value of its response mapping, written by the
    tick after s2 ran, belong to s1; s2 keeps its own 13."""
    clock = FixedClock(T0)
    with receiver() as hooks:
        hooks.answers["/visit"] = (200, "application/json", '{"note": "seen"}')
        build_hooks(
            database,
            tmp_path,
            hook_yaml(hooks.url("/visit"), response_type="JSON", mappings={"note": "orderNote"}),
            [{}],
            world=HOOK_WORLD,
        )
        activate(database, clock, "Visitors")
        recorded = record_event(
            database, clock, "Visit Webpage", person_id=1, primary="pricing.html", wait=True
        )
        (result,) = recorded.results
        tick(database, clock)
    assert len(hooks.calls) == 1
    document = _trace(database, result.run_id, 1)
    s1, s2 = document["trace"]["steps"]
    assert _types(s1) == [A.CALL_WEBHOOK, A.CHANGE_DATA_VALUE]
    assert s1["activities"][1]["primaryAttributeValue"] == "Order Note"
    assert s1["activities"][1]["attributes"]["Source"] == "Webhook"
    assert _types(s2) == [A.CHANGE_DATA_VALUE]
    assert s2["activities"][0]["primaryAttributeValue"] == "Order Count"
    assert document["unmatched"] == []
    assert s1["activities"][0]["id"] > s2["activities"][0]["id"]
