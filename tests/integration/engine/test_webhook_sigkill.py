"""A delivery worker SIGKILLed around a webhook call never makes it twice (LEDG-3, LEDG-4,
HOOK-9): the receiver counts calls per ledger key."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from crashworker import killed
from deliveryworker import run_deliver
from webhooksupport import T0, activities, build, hook_yaml, outbox_rows, receiver, run_step

from kampanj.clock import FixedClock
from kampanj.engine.delivery import deliver
from kampanj.model.activities import StandardActivity
from kampanj.store.database import Database

AFTER_LEASE = FixedClock(T0 + timedelta(hours=1))


@pytest.mark.parametrize(
    ("point", "first_calls"), [("delivery-claimed", 0), ("delivery-called", 1)]
)
def test_killed_worker_never_calls_twice(
    database: Database, tmp_path: Path, point: str, first_calls: int
) -> None:
    with receiver() as hooks:
        build(database, tmp_path, hook_yaml(hooks.url("/k")), [{}, {}])
        run_id, _ = run_step(database, [1, 2])
        first = f"{run_id}:1:s1"
        killed(run_deliver, database.url, T0.isoformat(), f"{point}:{first}")
        assert len(hooks.calls) == first_calls
        assert [r["state"] for r in outbox_rows(database)] == ["claimed", "intent"]
        deliver(database, AFTER_LEASE)
        deliver(database, AFTER_LEASE)
    calls = Counter(hooks.keys())
    assert calls == Counter({f"{run_id}:2:s1": 1, **({first: 1} if first_calls else {})})
    assert [r["state"] for r in outbox_rows(database)] == ["unknown", "sent"]
    written = activities(database, StandardActivity.CALL_WEBHOOK)
    assert [(a["person_id"], a["attributes"].get("Error Type")) for a in written] == [
        (1, "Outcome Unknown"),
        (2, "1001"),
    ]
