"""`kampanj smart-list count|members` and `kampanj explain --smart-list` (SL-7, EXPL-1/2)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from kampanj.cli.app import app

runner = CliRunner()

DEFINITIONS = """\
workspace: Default
folders:
  - name: Audiences
    smartLists:
      - name: Scored
        filters:
          - Lead Score: {at least: 10}
      - name: Scored Visitors
        filters:
          - Member of Smart List: {in: [Scored]}
          - Visited Web Page: {Web Page: {contains: pricing}, Date of Activity: in past 7 days}
          - First Name: {starts with: b}
        logic: 1 and (2 or not 3)
"""


def _setup(database_url: str, tmp_path: Path) -> None:
    definitions = tmp_path / "audiences.yaml"
    definitions.write_text(DEFINITIONS)
    result = runner.invoke(app, ["apply", str(definitions), "--db", database_url])
    assert result.exit_code == 0, result.output
    people = tmp_path / "people.csv"
    people.write_text(
        "email,firstName,leadScore\nann@x.com,Ann,12\nbo@x.com,Bo,30\ncy@x.com,Cy,3\n"
        "bea@x.com,Bea,10\n"
    )
    result = runner.invoke(app, ["people", "import", str(people), "--db", database_url])
    assert result.exit_code == 0, result.output
    recent = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    history = tmp_path / "history.jsonl"
    history.write_text(
        json.dumps(
            {
                "personId": 2,
                "activityType": "Visit Webpage",
                "activityDate": recent,
                "primaryAttributeValue": "/Pricing",
            }
        )
        + "\n"
    )
    result = runner.invoke(app, ["activities", "import", str(history), "--db", database_url])
    assert result.exit_code == 0, result.output


def test_count_members_and_explain(database_url: str, tmp_path: Path) -> None:
    """SL-4 logic over SL-24 nesting and SL-22 activity filter, through the CLI."""
    _setup(database_url, tmp_path)
    result = runner.invoke(app, ["smart-list", "count", "scored", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"count": 3}

    # Ann (12, not b…), Bo (30, b…, visited pricing), Bea (10, b…, no visit → out).
    result = runner.invoke(
        app, ["smart-list", "members", "Scored Visitors", "--db", database_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"members": [1, 2]}

    result = runner.invoke(
        app,
        ["smart-list", "members", "Scored Visitors", "--limit", "1", "--db", database_url],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["1"]

    result = runner.invoke(
        app,
        ["explain", "--smart-list", "Scored Visitors", "--person", "4", "--db", database_url,
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["result"] is False
    assert [f["passed"] for f in document["filters"]] == [True, False, True]
    assert document["filters"][1]["details"]["count"] == 0
    assert document["filters"][0]["details"]["smartLists"] == {"Scored": True}
    assert document["steps"][-1] == {"expression": "(1 and (2 or not 3))", "value": False}


def test_explain_text_shows_plain_values(database_url: str, tmp_path: Path) -> None:
    """EXPL-2 as text: one line per filter and per looked-at value, instants in ISO form."""
    _setup(database_url, tmp_path)
    result = runner.invoke(
        app, ["explain", "--smart-list", "Scored Visitors", "--person", "2", "--db", database_url]
    )
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0] == "Person 2 qualifies for smart list 'Scored Visitors'"
    assert "2. Visited Web Page: pass" in lines
    words = " ".join(result.stdout.split())  # the console may wrap long lines
    assert re.search(r"window: \{operator: in past, .* from: \d{4}-\d\d-\d\dT", words)
    assert "datetime" not in words and "'" not in "".join(lines[1:])
    assert lines[-1].endswith("= true")


def test_unknown_smart_list_names_close_matches(database_url: str, tmp_path: Path) -> None:
    """Unknown names exit 1 with a message naming the close matches."""
    _setup(database_url, tmp_path)
    result = runner.invoke(app, ["smart-list", "count", "Scored Visitor", "--db", database_url])
    assert result.exit_code == 1
    assert "Scored Visitors" in result.stderr
    result = runner.invoke(
        app, ["explain", "--smart-list", "Scored", "--person", "99", "--db", database_url]
    )
    assert result.exit_code == 1
    assert "no person with id 99" in result.stderr


def test_explain_at_moves_the_window(database_url: str, tmp_path: Path) -> None:
    """EXPL-1 --at: relative windows are measured from the instant given (SL-14, SL-22)."""
    _setup(database_url, tmp_path)
    args = ["explain", "--smart-list", "Scored Visitors", "--person", "2", "--db", database_url]
    at = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    result = runner.invoke(app, [*args, "--at", at, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["filters"][1]["passed"] is False  # the visit is 32 days before --at
    assert document["result"] is False
    result = runner.invoke(app, [*args, "--activity", "1"])
    assert result.exit_code == 1 and "apply to campaigns" in result.stderr
