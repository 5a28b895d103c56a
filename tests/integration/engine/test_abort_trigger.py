"""Aborting a trigger campaign's runs deactivates it (CMP-29, CMP-13), on both databases."""

from __future__ import annotations

import json
from pathlib import Path

from enginesupport import cli
from triggersupport import CLOCK, person_ids, runs, setup

from kampanj.engine.abort import abort_campaign, abort_run
from kampanj.engine.events import record_event
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions

WAITER = """\
      - name: Waiter
        smartList: {triggers: [Visits Web Page]}
        flow:
          - Interesting Moment: {type: Web, description: before}
          - Wait: 1 day
          - Interesting Moment: {type: Web, description: after}
        schedule: {qualification: every time}
"""


def _active(database: Database) -> bool:
    with database.read() as connection:
        (waiter,) = [c for c in read_definitions(connection).campaigns if c.name == "Waiter"]
    return waiter.active


def test_aborting_all_runs_of_a_trigger_campaign_deactivates_it(
    database: Database, tmp_path: Path
) -> None:
    """CMP-29: abort of one run leaves the campaign active; aborting all its runs (a
    waiting one and a queued one) deactivates it, so a later event fires nothing."""
    setup(database, tmp_path, WAITER, "Waiter")
    a, b = person_ids(database)[:2]
    waiting = record_event(database, CLOCK, "Visit Webpage", person_id=a, wait=True)
    (parked,) = waiting.results
    assert parked.status.value == "running" and parked.waiting == 1
    queued = record_event(database, CLOCK, "Visit Webpage", person_id=b).enqueued
    third = record_event(database, CLOCK, "Visit Webpage", person_id=b).enqueued
    assert abort_run(database, CLOCK, third[0].run_id).status.value == "aborted"
    assert _active(database)  # one run aborted: the campaign stays active
    done = abort_campaign(database, CLOCK, "Waiter")
    assert done.deactivated
    assert [r.run_id for r in done.results] == [parked.run_id, queued[0].run_id]
    assert not _active(database)
    assert {r["status"] for r in runs(database)} == {"aborted"}
    assert record_event(database, CLOCK, "Visit Webpage", person_id=a).enqueued == ()
    again = abort_campaign(database, CLOCK, "Waiter")  # inactive, nothing left
    assert (again.results, again.deactivated) == ([], False)


def test_cli_abort_campaign_reports_the_deactivation(database: Database, tmp_path: Path) -> None:
    setup(database, tmp_path, WAITER, "Waiter")
    out = cli("abort", "--campaign", "Waiter", "--db", database.url, "--json").stdout
    assert json.loads(out) == {"aborted": [], "deactivated": True}
    text = cli("abort", "--campaign", "Waiter", "--db", database.url).stdout
    assert "no unfinished run" in text and "deactivated" not in text
