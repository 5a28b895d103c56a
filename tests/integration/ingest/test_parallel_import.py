"""Parsing in a second process (`ingest.pipeline`) changes nothing but the speed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kampanj.clock import FixedClock
from kampanj.errors import ImportFileError
from kampanj.ingest.activities import import_activities
from kampanj.ingest.people import import_people
from kampanj.store.database import Database
from kampanj.store.schema import activity, person

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _source(tmp_path: Path) -> Path:
    lines = ["email,firstName,leadScore,unsubscribed"]
    for n in range(1, 121):
        score = "abc" if n % 17 == 0 else str(n)
        email = f"p{n % 100}@example.com"  # rows 101-120 repeat earlier emails
        lines.append(f"{email},Name{n},{score},{'true' if n % 2 else 'false'}")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _state(database: Database) -> tuple[list[object], list[object]]:
    with database.read() as connection:
        people = connection.execute(select(person).order_by(person.c.id)).all()
        activities = connection.execute(
            select(
                activity.c.person_id, activity.c.activity_type_id, activity.c.attributes
            ).order_by(activity.c.id)
        ).all()
    return [tuple(row) for row in people], [tuple(row) for row in activities]


def test_background_parsing_gives_the_same_people_activities_and_skips(
    database: Database, tmp_path: Path
) -> None:
    source = _source(tmp_path)
    inline = import_people(database, source, clock=FixedClock(NOW), chunk_size=7, parallel=False)
    inline_state = _state(database)
    with database.begin() as connection:
        connection.execute(activity.delete())
        connection.execute(person.delete())
    background = import_people(database, source, clock=FixedClock(NOW), chunk_size=7, parallel=True)
    background_state = _state(database)

    assert inline.skipped == background.skipped
    reasons = [s.reason for s in inline.skipped]
    # Rows 101-120 repeat p1..p20; rows 102 and 119 fail on their score first, and p17 is
    # first loaded by row 117 because row 17's score is bad.
    assert sum("duplicate email" in r for r in reasons) == 17
    assert sum("is not an integer" in r for r in reasons) == 7  # n = 17, 34, ..., 119
    # p34, p51, p68 and p85 never load.
    assert (inline.created, background.created) == (96, 96)
    # Ids are never reused (GEN-3), so compare everything but them.
    assert [row[1:] for row in inline_state[0]] == [row[1:] for row in background_state[0]]
    assert [row[1:] for row in inline_state[1]] == [row[1:] for row in background_state[1]]


def test_a_file_error_in_the_background_process_is_the_same_user_error(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "people.csv"
    source.write_text("email,shoeSize\na@example.com,42\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="unknown column 'shoeSize'"):
        import_people(database, source, clock=FixedClock(NOW), parallel=True)


def test_activity_history_parsed_in_the_background_is_the_same(
    database: Database, tmp_path: Path
) -> None:
    """ACT-6/ACT-9: same rows written and same lines skipped whichever process parses."""
    people_file = tmp_path / "people.csv"
    people_file.write_text(
        "email\n" + "".join(f"p{n}@example.com\n" for n in range(1, 6)), encoding="utf-8"
    )
    import_people(database, people_file, clock=FixedClock(NOW))
    with database.read() as connection:
        first_id = connection.execute(select(person.c.id).order_by(person.c.id)).scalars().first()
    assert first_id is not None
    lines = []
    for n in range(40):
        person_id = first_id + n % 7  # ids beyond the fifth person do not exist
        page = "x" if n % 9 else {"not": "text"}
        lines.append(
            json.dumps(
                {
                    "personId": person_id,
                    "activityType": "Visit Webpage",
                    "activityDate": f"2026-02-{1 + n % 28:02d}T10:00:00Z",
                    "primaryAttributeValue": "/pricing",
                    "attributes": {"Webpage URL": page},
                }
            )
        )
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(lines) + "\nnot json\n", encoding="utf-8")

    def run(parallel: bool) -> tuple[object, list[tuple[object, ...]]]:
        with database.begin() as connection:
            connection.execute(
                activity.delete().where(activity.c.activity_type_id != 12)  # keep New Lead
            )
        report = import_activities(
            database, history, clock=FixedClock(NOW), chunk_size=6, parallel=parallel
        )
        with database.read() as connection:
            rows = connection.execute(
                select(activity.c.person_id, activity.c.activity_date, activity.c.attributes)
                .where(activity.c.activity_type_id == 1)
                .order_by(activity.c.id)
            ).all()
        return report.skipped, [tuple(row) for row in rows]

    inline, background = run(False), run(True)
    assert inline == background
    skipped_lines = {s.line for s in inline[0]}  # type: ignore[attr-defined]
    assert 41 in skipped_lines  # the line that is not JSON
    assert len(inline[1]) == len([n for n in range(40) if n % 7 < 5 and n % 9])
