"""CMP-23: with setting ``autoCleanup``, at 00:00 on the first day of each quarter (account
time zone), trigger campaigns active for over six months with no qualification in the last
six months are deactivated (CMP-13); a qualification or a re-activation restarts the six
months. Once per boundary, a missed boundary at the next tick; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from enginesupport import cli

from kampanj.clock import FixedClock
from kampanj.engine.activation import activate, deactivate
from kampanj.engine.auto_cleanup import months_before, quarter_start
from kampanj.engine.events import record_event
from kampanj.engine.tick import TickReport, tick
from kampanj.errors import DefinitionError
from kampanj.model.settings import AccountSettings
from kampanj.services.apply import apply_paths
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from testsupport import write

STOCKHOLM = ZoneInfo("Europe/Stockholm")
BOUNDARY = datetime(2027, 1, 1, tzinfo=STOCKHOLM).astimezone(UTC)  # 2026-12-31T23:00Z
CREATED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _at(year: int, month: int, day: int) -> FixedClock:
    return FixedClock(datetime(year, month, day, 12, 0, tzinfo=UTC))


def _campaign(name: str, *, active: bool = False, threshold: int = 0, note: str = "") -> str:
    return f"""\
      - name: {name}
        description: "{note}"
        active: {str(active).lower()}
        smartList:
          triggers: [Visits Web Page]
          filters:
            - Lead Score: {{at least: {threshold}}}
        flow:
          - Interesting Moment: {{type: Web, description: visit}}
        schedule: {{qualification: every time}}
"""


def _world(*, auto_cleanup: bool, note: str = "") -> str:
    return (
        f"""\
settings:
  timezone: Europe/Stockholm
  autoCleanup: {str(auto_cleanup).lower()}
workspace: Default
folders:
  - name: F
    campaigns:
"""
        + _campaign("Idle", threshold=1000, note=note)  # fires, but nobody qualifies
        + _campaign("Created Active", active=True, threshold=1000, note=note)
        + _campaign("Qualified")
        + _campaign("Reactivated", threshold=1000)
        + _campaign("Young", threshold=1000)
    )


def _setup(database: Database, tmp_path: Path, *, auto_cleanup: bool = True) -> int:
    """Campaigns created on 2026-05-01; 'Created Active' active from then (apply), 'Idle',
    'Qualified' and 'Reactivated' activated on 2026-05-02 ('Reactivated' again on
    2026-12-01), 'Young' on 2026-09-01; one person qualified for 'Qualified' (only: the
    others' filters let nobody in) on 2026-11-01; 'Idle' and 'Created Active' edited on
    2026-12-10. Returns the person's id."""
    apply_paths(
        database,
        [write(tmp_path, "w.yaml", _world(auto_cleanup=auto_cleanup))],
        clock=FixedClock(CREATED),
    )
    people = write(tmp_path, "people.csv", "email,leadScore\na@x.com,10\n")
    cli("people", "import", str(people), "--db", database.url)
    for name in ("Idle", "Qualified", "Reactivated"):
        activate(database, _at(2026, 5, 2), name)
    activate(database, _at(2026, 9, 1), "Young")
    deactivate(database, _at(2026, 10, 1), "Reactivated")
    with database.read() as connection:
        person = connection.execute(
            sa.select(sa.text("id")).select_from(sa.text("person"))
        ).scalar_one()
    record_event(database, _at(2026, 11, 1), "Visit Webpage", person_id=person, wait=True)
    activate(database, _at(2026, 12, 1), "Reactivated")
    # An edit is no re-activation: it does not restart the six months.
    edited = write(tmp_path, "w.yaml", _world(auto_cleanup=auto_cleanup, note="edited"))
    assert apply_paths(database, [edited], clock=_at(2026, 12, 10)).report.changed
    return int(person)


def _active(database: Database) -> dict[str, bool]:
    with database.read() as connection:
        return {c.name: c.active for c in read_definitions(connection).campaigns}


def _cleanups(report: TickReport) -> list[dict[str, Any]]:
    return [a for a in report.actions if a["action"] == "autoCleanup"]


ALL_ACTIVE = {
    "Idle": True,
    "Created Active": True,
    "Qualified": True,
    "Reactivated": True,
    "Young": True,
}


def test_quarter_boundaries_in_the_account_zone() -> None:
    """00:00 on Jan 1 / Apr 1 / Jul 1 / Oct 1 local; six calendar months earlier."""
    assert quarter_start(BOUNDARY, STOCKHOLM) == BOUNDARY
    assert quarter_start(BOUNDARY - timedelta(seconds=1), STOCKHOLM) == datetime(
        2026, 10, 1, tzinfo=STOCKHOLM
    ).astimezone(UTC)
    assert quarter_start(datetime(2026, 5, 20, tzinfo=UTC), ZoneInfo("UTC")) == datetime(
        2026, 4, 1, tzinfo=UTC
    )
    assert months_before(BOUNDARY, 6, STOCKHOLM) == datetime(2026, 7, 1, tzinfo=STOCKHOLM)


@pytest.mark.parametrize("after", [timedelta(0), timedelta(days=4, hours=3)])
def test_idle_campaigns_are_deactivated_at_the_quarter_boundary(
    database: Database, tmp_path: Path, after: timedelta
) -> None:
    """Active since May and never qualified ('Idle', and 'Created Active', active since the
    apply that created it) → deactivated at the boundary, or at the first tick after it
    when no worker ran then; qualified two months ago, re-activated a month ago, or active
    for four months → stays. Not before the boundary; once per boundary."""
    _setup(database, tmp_path)
    assert _cleanups(tick(database, _at(2026, 12, 15))) == []  # watching from this quarter
    last_minute = tick(database, FixedClock(BOUNDARY - timedelta(minutes=1)))
    assert _cleanups(last_minute) == []
    assert _active(database) == ALL_ACTIVE

    report = tick(database, FixedClock(BOUNDARY + after))
    ids = {c.name: c.id for c in read_definitions_of(database)}
    (cleanup,) = _cleanups(report)
    assert cleanup["boundary"] == BOUNDARY
    assert cleanup["campaignIds"] == sorted([ids["Idle"], ids["Created Active"]])
    assert sorted(cleanup["campaigns"]) == ["Created Active", "Idle"]
    assert _active(database) == {**ALL_ACTIVE, "Idle": False, "Created Active": False}

    again = tick(database, FixedClock(BOUNDARY + after + timedelta(hours=1)))
    assert _cleanups(again) == []
    with database.read() as connection:
        rows = connection.execute(
            sa.select(schema.campaign_cleanup).order_by(schema.campaign_cleanup.c.boundary)
        ).mappings()
        assert [(r["boundary"], r["ran"], r["deactivated"]) for r in rows][-1] == (
            BOUNDARY,
            True,
            cleanup["campaignIds"],
        )


def test_setting_off_deactivates_nothing(database: Database, tmp_path: Path) -> None:
    """autoCleanup off (the default): no cleanup and nothing recorded at any boundary.
    Switched on after a boundary, it only starts watching: the next boundary cleans up."""
    _setup(database, tmp_path, auto_cleanup=False)
    tick(database, _at(2026, 12, 15))
    assert _cleanups(tick(database, FixedClock(BOUNDARY + timedelta(hours=1)))) == []
    assert _active(database) == ALL_ACTIVE
    with database.read() as connection:
        assert connection.execute(sa.select(schema.campaign_cleanup)).first() is None

    on = write(
        tmp_path, "on.yaml", "settings:\n  timezone: Europe/Stockholm\n  autoCleanup: true\n"
    )
    apply_paths(database, [on], clock=_at(2027, 1, 5))
    assert _cleanups(tick(database, _at(2027, 1, 5))) == []
    assert _active(database) == ALL_ACTIVE
    april = datetime(2027, 4, 1, tzinfo=STOCKHOLM).astimezone(UTC)
    (cleanup,) = _cleanups(tick(database, FixedClock(april)))
    # Six months before April 1 is October 1: 'Young' (September) is idle by then too;
    # 'Qualified' (November) and 'Reactivated' (December) are not.
    assert sorted(cleanup["campaigns"]) == ["Created Active", "Idle", "Young"]


def read_definitions_of(database: Database) -> Any:
    with database.read() as connection:
        return read_definitions(connection).campaigns


def test_the_setting_is_loaded_stored_and_checked(database: Database, tmp_path: Path) -> None:
    """``autoCleanup`` is an account setting like the others: default off, applied and read
    back; a value that is not a boolean is a finding and nothing is written."""
    assert read_settings(database) is None
    apply_paths(database, [write(tmp_path, "s.yaml", "settings:\n  autoCleanup: true\n")])
    stored = read_settings(database)
    assert stored is not None and stored.auto_cleanup is True and stored.timezone == "UTC"
    wrong = write(tmp_path, "s.yaml", "settings:\n  autoCleanup: sometimes\n")
    with pytest.raises(DefinitionError) as refused:
        apply_paths(database, [wrong])
    assert [f.code for f in refused.value.findings] == ["TYPE_INVALID"]


def read_settings(database: Database) -> AccountSettings | None:
    with database.read() as connection:
        return read_definitions(connection).settings
