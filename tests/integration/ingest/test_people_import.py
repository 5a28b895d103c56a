"""`import_people` on every backend: upserts, per-row skip reasons and ACT-7 activities."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kampanj.clock import FixedClock
from kampanj.errors import ImportFileError
from kampanj.ingest.people import Lookup, import_people
from kampanj.model.activities import StandardActivity
from kampanj.store.activities_repo import activities_for_person
from kampanj.store.database import Database
from kampanj.store.schema import activity, person
from testsupport import write

T1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def people(database: Database) -> dict[str, dict[str, object]]:
    with database.read() as connection:
        rows = connection.execute(select(person).order_by(person.c.id)).mappings()
        return {row["email"]: dict(row) for row in rows}


def activity_count(database: Database, type_id: int) -> int:
    with database.read() as connection:
        return int(
            connection.execute(
                select(func.count()).where(activity.c.activity_type_id == type_id)
            ).scalar_one()
        )


def test_creates_people_with_new_lead(database: Database, tmp_path: Path) -> None:
    """ACT-7: creation writes New Lead (12); ACT-5: Source Type Import; GEN-3 ascending ids."""
    source = write(
        tmp_path,
        "p.csv",
        "Email Address,First Name,leadScore,unsubscribed\n"
        "ann@example.com,Ann,10,yes\nbo@example.com,Bo,,no\n",
    )
    report = import_people(database, source, clock=FixedClock(T1))
    assert (report.created, report.updated, report.unchanged, report.skipped) == (2, 0, 0, ())
    stored = people(database)
    assert stored["ann@example.com"]["lead_score"] == 10
    assert stored["ann@example.com"]["unsubscribed"] is True
    assert stored["bo@example.com"]["lead_score"] is None
    assert stored["ann@example.com"]["created_at"] == T1
    assert stored["ann@example.com"]["id"] < stored["bo@example.com"]["id"]
    with database.read() as connection:
        log = activities_for_person(connection, int(stored["ann@example.com"]["id"]))  # type: ignore[call-overload]
    assert [a.activity_type_id for a in log] == [StandardActivity.NEW_LEAD]
    assert log[0].attributes == {"Source Type": "Import", "Created Date": "2026-03-02"}


def test_upsert_by_email_is_case_insensitive_and_logs_changes(
    database: Database, tmp_path: Path
) -> None:
    """ACT-7: each changed field (score included) writes Change Data Value (13) with old/new."""
    first = write(tmp_path, "a.csv", "email,firstName,leadScore\nann@example.com,Ann,10\n")
    import_people(database, first, clock=FixedClock(T1))
    second = write(tmp_path, "b.csv", "EMAIL,firstName,leadScore\nANN@example.com,Ann,25\n")
    report = import_people(database, second, clock=FixedClock(T2))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    stored = people(database)
    assert list(stored) == ["ANN@example.com"]
    row = stored["ANN@example.com"]
    assert row["lead_score"] == 25
    assert row["updated_at"] == T2
    assert row["created_at"] == T1
    with database.read() as connection:
        log = activities_for_person(connection, int(row["id"]))  # type: ignore[call-overload]
    changes = {
        a.attributes["Attribute Name"]: a.attributes
        for a in log
        if a.activity_type_id == StandardActivity.CHANGE_DATA_VALUE
    }
    assert set(changes) == {"Email Address", "Lead Score"}
    assert changes["Lead Score"]["Old Value"] == "10"
    assert changes["Lead Score"]["New Value"] == "25"
    assert changes["Lead Score"]["Source"] == "Import"
    assert all(a.activity_date == T2 for a in log if a.activity_type_id == 13)


def test_unchanged_rows_write_nothing(database: Database, tmp_path: Path) -> None:
    """FLOW-15 / ACT-7: no actual change → no activity, updatedAt kept."""
    source = write(tmp_path, "a.csv", "email,firstName\nann@example.com,Ann\n")
    import_people(database, source, clock=FixedClock(T1))
    report = import_people(database, source, clock=FixedClock(T2))
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert activity_count(database, StandardActivity.CHANGE_DATA_VALUE) == 0
    assert people(database)["ann@example.com"]["updated_at"] == T1


def test_blank_keeps_and_null_clears(database: Database, tmp_path: Path) -> None:
    """FLOW-13 applied to imports: blank cell = no change, NULL = clear."""
    import_people(
        database,
        write(tmp_path, "a.csv", "email,firstName,city\nann@example.com,Ann,Oslo\n"),
        clock=FixedClock(T1),
    )
    import_people(
        database,
        write(tmp_path, "b.csv", "email,firstName,city\nann@example.com,,NULL\n"),
        clock=FixedClock(T2),
    )
    row = people(database)["ann@example.com"]
    assert (row["first_name"], row["city"]) == ("Ann", None)


def test_update_by_id_skips_unknown_ids(database: Database, tmp_path: Path) -> None:
    """--lookup id updates by id; an unknown id is skipped with a reason."""
    import_people(
        database, write(tmp_path, "a.csv", "email\nann@example.com\n"), clock=FixedClock(T1)
    )
    person_id = people(database)["ann@example.com"]["id"]
    source = write(tmp_path, "b.csv", f"id,title\n{person_id},CEO\n999,CTO\n,CFO\n")
    report = import_people(database, source, lookup=Lookup.ID, clock=FixedClock(T2))
    assert report.updated == 1
    assert [(s.line, s.reason) for s in report.skipped] == [
        (3, "person 999 does not exist"),
        (4, "missing id, which identifies the person (--lookup id)"),
    ]
    assert people(database)["ann@example.com"]["title"] == "CEO"


def test_bad_rows_are_skipped_with_reasons_and_good_rows_load(
    database: Database, tmp_path: Path
) -> None:
    """Each bad row gets its line and a reason naming the field; the rest still loads."""
    source = write(
        tmp_path,
        "p.csv",
        "email,firstName,leadScore\n"
        "ann@example.com,Ann,1\n"
        "bo@example.com,Bo,abc\n"
        "cy@example.com,Cy,3000000000\n"
        "not-an-email,Di,1\n"
        "ANN@example.com,Again,2\n"
        "ed@example.com,Ed\n"
        ",Nobody,1\n"
        "fi@example.com,Fi,2\n",
    )
    report = import_people(database, source, clock=FixedClock(T1))
    assert report.created == 2
    assert [(s.line, s.reason) for s in report.skipped] == [
        (3, "leadScore: 'abc' is not an integer"),
        (4, "leadScore: '3000000000' is outside the score range -2147483648..2147483647"),
        (5, "email: 'not-an-email' is not a valid email address"),
        (6, "duplicate email 'ann@example.com' (first on line 2)"),
        (7, "expected 3 values (one per header column), found 2"),
        (8, "missing email, which identifies the person (--lookup email)"),
    ]
    assert set(people(database)) == {"ann@example.com", "fi@example.com"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("email,shoeSize,favourite", "unknown columns 'shoeSize', 'favourite'; valid field names"),
        ("email,createdAt", "'createdAt' is read-only"),
        ("email,id", "use --lookup id"),
        ("firstName", "no email column"),
        ("email,email address", "both name field 'email'"),
    ],
)
def test_file_level_problems_write_nothing(
    database: Database, tmp_path: Path, header: str, message: str
) -> None:
    """Unknown or read-only columns stop the import before anything is written."""
    width = header.count(",") + 1
    source = write(tmp_path, "p.csv", f"{header}\n" + ",".join(["a@x.com"] * width) + "\n")
    with pytest.raises(ImportFileError, match=message):
        import_people(database, source, clock=FixedClock(T1))
    assert people(database) == {}


def test_jsonl_rows(database: Database, tmp_path: Path) -> None:
    """JSONL: same rules per line; unknown keys and bad JSON skip the line."""
    source = write(
        tmp_path,
        "p.jsonl",
        '{"email": "ann@example.com", "Lead Score": 5, "unsubscribed": false}\n'
        '{"email": "bo@example.com", "leadScore": "abc"}\n'
        "{not json\n"
        '{"email": "cy@example.com", "shoeSize": 44}\n'
        "\n"
        '["a list"]\n'
        '{"email": "ANN@example.com", "city": null}\n'
        '{"email": "di@example.com", "createdAt": "2026-01-01T00:00:00"}\n',
    )
    report = import_people(database, source, clock=FixedClock(T1))
    assert report.created == 1
    reasons = {s.line: s.reason for s in report.skipped}
    assert reasons[2] == "leadScore: 'abc' is not an integer"
    assert reasons[3].startswith("not valid JSON")
    assert reasons[4].startswith("unknown field 'shoeSize'")
    assert reasons[6] == "expected a JSON object ({...}) on each line"
    assert reasons[7] == "duplicate email 'ann@example.com' (first on line 1)"
    assert "read-only" in reasons[8]
    assert people(database)["ann@example.com"]["lead_score"] == 5


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 100])
def test_counts_are_right_across_chunks(
    database: Database, tmp_path: Path, chunk_size: int
) -> None:
    """GEN-2: the outcome does not depend on how the file is chunked."""
    import_people(
        database,
        write(tmp_path, "a.csv", "email,leadScore\np1@x.com,1\np2@x.com,2\n"),
        clock=FixedClock(T1),
    )
    lines = ["email,leadScore"] + [f"p{i}@x.com,{i if i != 2 else 20}" for i in range(1, 8)]
    lines.insert(4, "p1@x.com,9")
    source = write(tmp_path, "b.csv", "\n".join(lines) + "\n")
    report = import_people(database, source, clock=FixedClock(T2), chunk_size=chunk_size)
    assert (report.created, report.updated, report.unchanged) == (5, 1, 1)
    assert [(s.line, s.reason) for s in report.skipped] == [
        (5, "duplicate email 'p1@x.com' (first on line 2)")
    ]
    assert len(people(database)) == 7
    assert activity_count(database, StandardActivity.NEW_LEAD) == 7
    assert activity_count(database, StandardActivity.CHANGE_DATA_VALUE) == 1
