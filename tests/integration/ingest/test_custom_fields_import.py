"""Custom fields applied as code, then imported from CSV and JSONL (GEN-10, FLOW-14)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table
from testsupport import write

runner = CliRunner()

CUSTOM_FIELDS = """\
fields:
  - {name: behaviorScore, displayName: Behavior Score, type: score}
  - {name: lifecycleStage, displayName: Lifecycle Stage, type: string}
  - {name: isPartner, displayName: Is Partner, type: boolean}
  - {name: renewalDate, displayName: Renewal Date, type: date}
  - {name: lastDemoAt, displayName: Last Demo At, type: datetime}
  - {name: seats, type: integer}
  - {name: arr, displayName: ARR, type: float}
"""


def invoke(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def stored_people(url: str) -> dict[str, dict[str, Any]]:
    database = Database(url)
    try:
        with database.read() as connection:
            # The typed table of the stored registry: custom field columns included.
            table = person_table(load_field_registry(connection))
            rows = connection.execute(sa.select(table)).mappings()
            return {row["email"]: dict(row) for row in rows}
    finally:
        database.dispose()


def test_custom_fields_import_from_csv_and_jsonl(database_url: str, tmp_path: Path) -> None:
    """GEN-10: applied custom fields are real columns; imports fill them by display or REST name.

    FLOW-14: values convert to each field's type; a bad custom value skips its row with a
    reason naming the field, and the good rows still load.
    """
    account = write(tmp_path, "account.yaml", CUSTOM_FIELDS)
    applied = invoke("apply", str(account), "--db", database_url)
    assert len(applied["created"]["fields"]) == 7

    csv_file = write(
        tmp_path,
        "people.csv",
        "Email Address,Behavior Score,Lifecycle Stage,Is Partner,Renewal Date,Last Demo At,"
        "seats,ARR\n"
        "ann@example.com,42,MQL,yes,2026-09-30,2026-03-01T09:30:00Z,12,1500.5\n"
        "bo@example.com,lots,Lead,no,,,,\n",
    )
    report = invoke("people", "import", str(csv_file), "--db", database_url)
    assert report["created"] == 1
    assert report["skipped"] == [{"line": 3, "reason": "behaviorScore: 'lots' is not an integer"}]

    jsonl_file = write(
        tmp_path,
        "people.jsonl",
        '{"email": "cy@example.com", "behaviorScore": -3, "lifecycleStage": "Engaged",'
        ' "isPartner": false, "renewalDate": "2027-01-15", "seats": 7, "arr": 99}\n'
        '{"email": "ann@example.com", "behaviorScore": 50, "lifecycleStage": null}\n',
    )
    report = invoke("people", "import", str(jsonl_file), "--db", database_url)
    assert (report["created"], report["updated"], report["skipped"]) == (1, 1, [])

    people = stored_people(database_url)
    ann, cy = people["ann@example.com"], people["cy@example.com"]
    assert ann["c_behavior_score"] == 50
    assert ann["c_lifecycle_stage"] is None, "JSON null clears the field (FLOW-13)"
    assert ann["c_is_partner"] is True
    assert ann["c_renewal_date"] == date(2026, 9, 30)
    assert ann["c_last_demo_at"].astimezone(UTC) == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert (ann["c_seats"], ann["c_arr"]) == (12, 1500.5)
    assert (cy["c_behavior_score"], cy["c_lifecycle_stage"], cy["c_is_partner"]) == (
        -3,
        "Engaged",
        False,
    )
    assert (cy["c_renewal_date"], cy["c_seats"], cy["c_arr"]) == (date(2027, 1, 15), 7, 99.0)
    assert "bo@example.com" not in people

    shown = invoke("people", "show", str(ann["id"]), "--db", database_url)
    assert shown["fields"]["behaviorScore"] == 50
    assert shown["fields"]["renewalDate"] == "2026-09-30"
    assert "lifecycleStage" not in shown["fields"]
