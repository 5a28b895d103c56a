"""Call Webhook end to end: an event starts a trigger run, the tick delivers the call, and
the Call Webhook activity fires *Webhook is Called* (HOOK-2, HOOK-8, HOOK-9, LEDG-3)."""

from __future__ import annotations

import json
from pathlib import Path

from webhooksupport import T0, activities, build, hook_yaml, outbox_rows, person, receiver

from kampanj.clock import FixedClock
from kampanj.engine.activation import activate
from kampanj.engine.events import record_event
from kampanj.engine.runs import RunKind, RunStatus
from kampanj.engine.tick import tick
from kampanj.model.activities import StandardActivity
from kampanj.store.database import Database

CLOCK = FixedClock(T0)

WORLD = """\
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
        schedule: {qualification: every time}
      - name: Called
        smartList:
          triggers:
            - Webhook is Called: {}
        flow:
          - Interesting Moment: {type: Web, description: "called {{trigger.Name}}"}
        schedule: {qualification: every time}
"""


def test_event_trigger_run_tick_delivers_once_and_fires_webhook_is_called(
    database: Database, tmp_path: Path
) -> None:
    with receiver() as hooks:
        hooks.answers["/visit"] = (200, "application/json", '{"note": "seen"}')
        build(
            database,
            tmp_path,
            hook_yaml(
                hooks.url("/visit"),
                payload='{"page": {{trigger.Name}}}',
                encoding="JSON",
                response_type="JSON",
                mappings={"note": "orderNote"},
            ),
            [{}],
            world=WORLD,
        )
        activate(database, CLOCK, "Visitors")
        activate(database, CLOCK, "Called")
        recorded = record_event(
            database, CLOCK, "Visit Webpage", person_id=1, primary="pricing.html", wait=True
        )
        (result,) = recorded.results
        assert result.status is RunStatus.COMPLETED and recorded.enqueued[0].kind is RunKind.TRIGGER
        assert hooks.calls == []  # the run only wrote the intent
        first = tick(database, CLOCK)
        tick(database, CLOCK)
    assert [a["action"] for a in first.actions if a["action"] == "delivered"] == ["delivered"]
    assert len(hooks.calls) == 1
    assert hooks.calls[0].headers["Idempotency-Key"] == f"{result.run_id}:1:s1"
    assert json.loads(hooks.calls[0].body) == {"page": "pricing.html"}
    assert [r["state"] for r in outbox_rows(database)] == ["sent"]
    assert person(database, 1)["orderNote"] == "seen"
    moments = activities(database, StandardActivity.INTERESTING_MOMENT)
    assert [m["attributes"]["Description"] for m in moments] == ["called Hook"]
