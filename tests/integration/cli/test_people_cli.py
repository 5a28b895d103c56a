"""`kampanj people import|show` and `kampanj activities import` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kampanj.cli.app import app

runner = CliRunner()


def test_import_and_show_json(database_url: str, tmp_path: Path) -> None:
    """--json shapes; ACT-7 New Lead shows in the person's log."""
    source = tmp_path / "people.csv"
    source.write_text("email,firstName,leadScore\nann@example.com,Ann,7\nbo@x.com,Bo,abc\n")
    result = runner.invoke(app, ["people", "import", str(source), "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["created"] == 1
    assert document["skipped"] == [{"line": 3, "reason": "leadScore: 'abc' is not an integer"}]
    assert set(document) == {"created", "updated", "unchanged", "skipped", "seconds"}

    history = tmp_path / "history.jsonl"
    history.write_text(
        '{"personId": 1, "activityType": "Visit Webpage", "activityDate": "2020-01-01T00:00:00Z",'
        ' "primaryAttributeValue": "/"}\n'
    )
    result = runner.invoke(
        app, ["activities", "import", str(history), "--db", database_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 1

    result = runner.invoke(app, ["people", "show", "1", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["fields"]["firstName"] == "Ann"
    assert shown["fields"]["leadScore"] == 7
    assert [a["activityType"] for a in shown["activities"]] == ["New Lead", "Visit Webpage"]


def test_text_output(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("email,firstName\nann@example.com,Ann\n")
    result = runner.invoke(app, ["people", "import", str(source), "--db", database_url])
    assert result.exit_code == 0, result.output
    assert "created" in result.stdout
    result = runner.invoke(app, ["people", "show", "1", "--db", database_url])
    assert result.exit_code == 0, result.output
    assert "Email Address" in result.stdout and "New Lead" in result.stdout


def test_unknown_person_exits_1(database_url: str) -> None:
    result = runner.invoke(app, ["people", "show", "42", "--db", database_url, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": "person 42 does not exist"}


def test_unknown_column_exits_1_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("email,shoeSize\nann@example.com,44\n")
    result = runner.invoke(app, ["people", "import", str(source), "--db", database_url, "--json"])
    assert result.exit_code == 1
    assert "unknown column 'shoeSize'" in json.loads(result.stdout)["error"]
    result = runner.invoke(app, ["people", "show", "1", "--db", database_url, "--json"])
    assert result.exit_code == 1


def test_missing_file_and_unknown_format_exit_1(database_url: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.csv")
    result = runner.invoke(app, ["people", "import", missing, "--db", database_url, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": f"file {missing!r} does not exist"}
    odd = tmp_path / "people.txt"
    odd.write_text("email\n")
    result = runner.invoke(app, ["people", "import", str(odd), "--db", database_url, "--json"])
    assert result.exit_code == 1
    assert "--format" in json.loads(result.stdout)["error"]
