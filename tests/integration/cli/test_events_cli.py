"""`kampanj event / activate / deactivate / request` from the command line (ACT-9, CMP-12,
REQ-4, API-17): JSON on success, one-line errors with exit 1, nothing written on refusal."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kampanj.cli.app import app
from testsupport import write

runner = CliRunner()
WORLD = """\
workspace: Default
folders:
  - name: F
    tokens:
      Greeting: {type: text, value: Hello}
    campaigns:
      - name: Visitors
        smartList: {triggers: [Visits Web Page]}
        flow: [{Interesting Moment: {type: Web, description: "{{trigger.Webpage URL}}"}}]
        schedule: {qualification: every time}
      - name: Requested
        smartList: {triggers: [Campaign is Requested]}
        flow: [{Interesting Moment: {type: Web, description: "{{my.Greeting}}"}}]
        schedule: {qualification: every time}
"""


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_event_request_and_activation_round_trip(database_url: str, tmp_path: Path) -> None:
    people = write(tmp_path, "p.csv", "email\na@x.com\nb@x.com\n")
    assert invoke("people", "import", str(people), "--db", database_url).exit_code == 0
    assert (
        invoke("apply", str(write(tmp_path, "w.yaml", WORLD)), "--db", database_url).exit_code == 0
    )
    for name in ("Visitors", "Requested"):
        done = runner.invoke(app, ["activate", name, "--db", database_url, "--json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["active"] is True

    fired = runner.invoke(
        app,
        [
            "event",
            "Visit Webpage",
            "--person",
            "1",
            "--attr",
            "Webpage URL=/pricing",
            "--wait",
            "--db",
            database_url,
            "--json",
        ],
    )
    assert fired.exit_code == 0, fired.output
    document = json.loads(fired.stdout)
    assert [r["status"] for r in document["results"]] == ["completed"]

    requested = runner.invoke(
        app,
        [
            "request",
            "Requested",
            "--person",
            "2",
            "--person",
            "2",
            "--token",
            "{{my.Greeting}}=Hej",
            "--wait",
            "--db",
            database_url,
            "--json",
        ],
    )
    assert requested.exit_code == 0, requested.output
    result = json.loads(requested.stdout)
    assert result["requested"] == [2] and result["runId"] is not None
    assert [w["code"] for w in result["warnings"]] == ["DUPLICATE_PEOPLE"]
    assert result["results"][0]["tokenOverrides"] == {"Greeting": "Hej"}


def test_bad_input_exits_1_with_one_line(database_url: str, tmp_path: Path) -> None:
    people = write(tmp_path, "p.csv", "email\na@x.com\n")
    assert invoke("people", "import", str(people), "--db", database_url).exit_code == 0
    assert (
        invoke("apply", str(write(tmp_path, "w.yaml", WORLD)), "--db", database_url).exit_code == 0
    )
    many = [arg for n in range(101) for arg in ("--person", str(n + 1))]
    for args, message in (
        (["event", "Visit Moon", "--person", "1"], "unknown activity type"),
        (["event", "Visit Webpage", "--person", "7"], "no person 7"),
        (["event", "Visit Webpage", "--person", "1", "--attr", "nonsense"], "NAME=VALUE"),
        (["deactivate", "Visitors"], "not active"),
        (["request", "Requested", "--person", "1"], "inactive"),
    ):
        result = runner.invoke(app, [*args, "--db", database_url])
        assert result.exit_code == 1, result.output
        assert message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert invoke("activate", "Requested", "--db", database_url).exit_code == 0
    result = runner.invoke(app, ["request", "Requested", *many, "--db", database_url])
    assert result.exit_code == 1 and "at most 100 people" in result.output
