"""`import_activities` on every backend (ACT-1, ACT-6, ACT-9)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from kampanj.clock import FixedClock
from kampanj.ingest.activities import import_activities
from kampanj.ingest.people import import_people
from kampanj.store.activities_repo import activities_for_person
from kampanj.store.database import Database
from kampanj.store.schema import activity

T1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_good_rows_load_bad_rows_are_skipped_and_nothing_fires(
    database: Database, tmp_path: Path
) -> None:
    """ACT-9: existing person, known type, declared attributes of the declared types.

    ACT-6: imported activities fire nothing, so exactly the imported rows are added.
    """
    people = tmp_path / "p.csv"
    people.write_text("email\nann@example.com\n", encoding="utf-8")
    import_people(database, people, clock=FixedClock(T1))
    with database.read() as connection:
        before = connection.execute(select(func.count()).select_from(activity)).scalar_one()
    source = tmp_path / "a.jsonl"
    source.write_text(
        '{"personId": 1, "activityType": "visit webpage", "activityDate": "2026-03-01T09:30:00",'
        ' "primaryAttributeValue": "/pricing", "attributes": {"webpage url": "https://x/p"}}\n'
        '{"leadId": 1, "activityType": 10, "activityDate": "2026-03-01T11:00:00Z",'
        ' "primaryAttributeValueId": 3, "attributes": {"Is Mobile Device": "yes"}}\n'
        '{"personId": 99, "activityType": 1, "activityDate": "2026-03-01T09:30:00Z"}\n'
        '{"personId": 1, "activityType": "Nope", "activityDate": "2026-03-01T09:30:00Z"}\n'
        '{"personId": 1, "activityType": 1, "activityDate": "2026-03-01T09:30:00Z",'
        ' "attributes": {"Shoe Size": "44"}}\n'
        '{"personId": 1, "activityType": 10, "activityDate": "2026-03-01T09:30:00Z",'
        ' "attributes": {"Is Mobile Device": "maybe"}}\n'
        '{"personId": 1, "activityType": 1}\n',
        encoding="utf-8",
    )
    report = import_activities(database, source, clock=FixedClock(T1), chunk_size=2)
    assert report.imported == 2
    reasons = {s.line: s.reason for s in report.skipped}
    assert reasons[3] == "person 99 does not exist"
    assert reasons[4].startswith("unknown activity type 'Nope'")
    assert reasons[5].startswith("attribute 'Shoe Size' does not belong to Visit Webpage")
    assert reasons[6].startswith("Is Mobile Device: 'maybe' is not a boolean")
    assert reasons[7].startswith("missing activityDate")
    with database.read() as connection:
        after = connection.execute(select(func.count()).select_from(activity)).scalar_one()
        log = activities_for_person(connection, 1)
    assert after - before == 2
    imported = [a for a in log if a.activity_type_id in (1, 10)]
    assert [a.activity_type_id for a in imported] == [10, 1]  # newest first
    open_email, visit = imported
    assert open_email.attributes == {"Is Mobile Device": True}
    assert open_email.primary_attribute_value_id == 3
    assert visit.attributes == {"Webpage URL": "https://x/p"}
    assert visit.primary_attribute_value == "/pricing"
    assert visit.activity_date == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
