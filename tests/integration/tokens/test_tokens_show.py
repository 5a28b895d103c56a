"""`kampanj tokens show` on both databases (TOK-11, PROV-2, API-40 shape)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.store.database import Database
from kampanj.tokens.stored import load_token_tree
from testsupport import ACCOUNT_YAML, write

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "lead-lifecycle"
runner = CliRunner()

NESTED = """\
tokens:
  Points: {type: score, value: "+0"}
workspace:
  name: Default
  tokens:
    Root Note: {type: text, value: root}
folders:
  - name: Events
    tokens:
      Points: {type: score, value: "+5"}
      Venue: {type: text, value: Hall}
    programs:
      - name: Webinar
        channel: Webinar
        tokens:
          Points: {type: score, value: "+10"}
          Speaker: {type: text, value: Ada}
        campaigns:
          - name: Invite
            smartList:
              filters:
                - Lead Score: {at least: 1}
            flow:
              - Change Score: {scoreName: Lead Score, change: "{{my.Points}}"}
"""


def _apply(url: str, path: Path) -> None:
    result = runner.invoke(app, ["apply", str(path), "--db", url])
    assert result.exit_code == 0, result.output


def _show(url: str, *args: str) -> Any:
    result = runner.invoke(app, ["tokens", "show", *args, "--db", url, "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def example_url(database_url: str) -> str:
    _apply(database_url, EXAMPLE)
    return database_url


def test_program_of_the_example(example_url: str) -> None:
    """TOK-11: global and folder tokens inherited, program tokens local (lead-lifecycle)."""
    code, document = _show(example_url, "lead scoring")
    assert code == 0
    assert document["folder"]["type"] == "Program" and document["folder"]["name"] == "Lead Scoring"
    by_name = {t["name"]: t for t in document["tokens"]}
    assert by_name["Company Name"]["status"] == "inherited"
    assert by_name["Company Name"]["definedAt"]["type"] == "account"
    assert by_name["Web Visit Points"]["status"] == "inherited"
    assert by_name["Web Visit Points"]["definedAt"]["name"] == "Lead Management"
    assert by_name["Pricing Visit Points"] == {
        "name": "Pricing Visit Points",
        "type": "score",
        "value": "+10",
        "status": "local",
        "definedAt": {
            "type": "program",
            "id": document["folder"]["value"],
            "name": "Lead Scoring",
            "path": "Default/Lead Management/Lead Scoring",
        },
    }
    names = [t["name"] for t in document["tokens"]]
    assert names == sorted(names, key=str.casefold)  # API-40: sorted by name


def test_campaign_sees_its_programs_tokens(example_url: str) -> None:
    """PROV-2: a campaign lists the tokens visible at its container."""
    code, document = _show(example_url, "APPLY SCORE CHANGE")
    assert code == 0
    assert document["campaign"]["name"] == "Apply Score Change"
    assert document["folder"]["name"] == "Lead Scoring"
    assert {t["name"] for t in document["tokens"]} >= {"Event Points", "Company Name"}


def test_folder_by_path_and_text_output(example_url: str) -> None:
    code, document = _show(example_url, "Lead Management")
    assert code == 0 and document["folder"]["type"] == "Folder"
    assert [t["name"] for t in document["tokens"]] == [
        "Company Name",
        "Support Address",
        "Web Visit Points",
    ]
    result = runner.invoke(
        app, ["tokens", "show", "lead management/lead scoring", "--db", example_url]
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "My Tokens visible at program Default/Lead Management/Lead Scoring"
    (pricing,) = [line for line in lines if "{{my.Pricing Visit Points}}" in line]
    assert re.fullmatch(
        r"\s+\{\{my\.Pricing Visit Points\}\}\s+score\s+\+10\s+local\s+"
        r"Default/Lead Management/Lead Scoring",
        pricing,
    )


def test_unknown_name_lists_close_matches(example_url: str) -> None:
    """Unknown names exit 1 with close matches; nothing is printed as a traceback."""
    result = runner.invoke(app, ["tokens", "show", "Lead Scorin", "--db", example_url, "--json"])
    assert result.exit_code == 1
    assert "did you mean 'Lead Scoring'" in json.loads(result.stdout)["error"]
    result = runner.invoke(app, ["tokens", "show", "x", "--workspace", "Nope", "--db", example_url])
    assert result.exit_code == 1 and "no workspace named 'Nope'" in result.output


def test_overridden_status_and_root_folder_tokens(database_url: str, tmp_path: Path) -> None:
    """TOK-11: overridden = defined here and above; the workspace root folder is a level."""
    write(tmp_path, "account.yaml", ACCOUNT_YAML)
    write(tmp_path, "events.yaml", NESTED)
    _apply(database_url, tmp_path)
    code, document = _show(database_url, "Webinar")
    assert code == 0
    by_name = {t["name"]: t for t in document["tokens"]}
    assert by_name["Points"]["status"] == "overridden" and by_name["Points"]["value"] == "+10"
    assert by_name["Speaker"]["status"] == "local"
    assert by_name["Venue"]["status"] == "inherited"
    assert by_name["Root Note"]["definedAt"]["type"] == "folder"
    assert by_name["Root Note"]["definedAt"]["name"] == "Default"
    code, at_folder = _show(database_url, "Events")
    points = next(t for t in at_folder["tokens"] if t["name"] == "Points")
    assert points["status"] == "overridden" and points["value"] == "+5"
    code, at_root = _show(database_url, "Default")
    assert {t["name"]: t["status"] for t in at_root["tokens"]} == {
        "Points": "inherited",
        "Root Note": "local",
    }


def test_stored_tree_resolves_like_the_cli(database_url: str, tmp_path: Path) -> None:
    """The engine's loader: stored definitions give the same tree, ids included."""
    write(tmp_path, "account.yaml", ACCOUNT_YAML)
    write(tmp_path, "events.yaml", NESTED)
    _apply(database_url, tmp_path)
    database = Database(database_url)
    try:
        with database.read() as connection:
            tree, definitions = load_token_tree(connection)
    finally:
        database.dispose()
    (invite,) = definitions.campaigns
    found = tree.lookup(invite.workspace, invite.folder, "points")
    assert found is not None and found.value == "+10" and found.defined_at.id is not None
    program = tree.nearest_program(invite.workspace, invite.folder)
    assert program is not None and program.name == "Webinar"
    assert tree.location("Default", ()).id is not None
