"""`kampanj clone` end to end on both backends (CMP-1, CMP-24..26, EXE-1, VAL-1, VAL-3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.model.campaigns import Priority, QualificationRuleType
from kampanj.store.database import Database
from kampanj.store.definitions_repo import read_definitions
from testsupport import ACCOUNT_YAML, dump_tables, write

runner = CliRunner()

DEFINITIONS = """\
workspace: Default
folders:
  - name: Ops
    lists: [{name: Hot}]
    programs:
      - name: Webinar A
        channel: Webinar
        campaigns:
          - name: Listener
            active: true
            smartList:
              triggers: [{Fills Out Form: {Form: is 11}}]
              filters: [{Lead Score: {at least: 5}}]
            flow:
              - Add to List: Hot
              - Execute Campaign: {campaign: Child, useParentContext: true}
              - Remove from Flow: this
            schedule:
              qualification: {every: 2 weeks}
              maxMembers: 500
              communicationLimit: true
              priority: High
          - name: Nightly
            description: every night
            smartList: {filters: [{Lead Score: {at least: 1}}]}
            flow: [{Add to List: Hot}]
            schedule:
              qualification: every time
              recurrence: {startAt: "2026-03-02T02:00:00", intervalType: Daily}
          - name: Child
            executable: true
            flow: [{Change Score: {scoreName: Behavior Score, change: "+1"}}]
      - name: Webinar B
        channel: Webinar
"""


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture
def url(database_url: str, tmp_path: Path) -> str:
    account = write(tmp_path, "account.yaml", ACCOUNT_YAML)
    defs = write(tmp_path, "defs.yaml", DEFINITIONS)
    result = invoke("apply", str(account), str(defs), "--db", database_url)
    assert result.exit_code == 0, result.output
    return database_url


def stored(url: str, name: str, folder: tuple[str, ...]) -> Any:
    database = Database(url)
    try:
        with database.read() as connection:
            campaigns = read_definitions(connection).campaigns
    finally:
        database.dispose()
    (campaign,) = [c for c in campaigns if c.name == name and c.folder == folder]
    return campaign


def only_new_campaign_row(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Every table is unchanged except campaign, which gained exactly one row."""
    assert {t: rows for t, rows in after.items() if t != "campaign"} == {
        t: rows for t, rows in before.items() if t != "campaign"
    }
    assert set(before["campaign"]) <= set(after["campaign"])
    assert len(after["campaign"]) == len(before["campaign"]) + 1


def test_clone_copies_definition_but_not_activation_recurrence_or_history(url: str) -> None:
    """CMP-24: smart list, flow, schedule settings copied; inactive; nothing else written."""
    before = dump_tables(url)

    result = invoke("clone", "Listener", "--name", "Listener Copy", "--db", url, "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["active"] is False and document["executable"] is False
    assert document["workspace"] == "Default" and document["folder"] == "Ops/Webinar A"
    only_new_campaign_row(before, dump_tables(url))
    source = stored(url, "Listener", ("Ops", "Webinar A"))
    clone = stored(url, "Listener Copy", ("Ops", "Webinar A"))
    assert clone.id == document["id"] != source.id
    assert source.active and not clone.active
    assert clone.smart_list == source.smart_list and clone.flow == source.flow
    assert clone.schedule == source.schedule
    assert clone.schedule.qualification.type is QualificationRuleType.INTERVAL
    assert clone.schedule.priority_override is Priority.HIGH


def test_clone_drops_the_recurrence(url: str) -> None:
    """CMP-24: schedule settings except recurrence."""
    result = invoke("clone", "Nightly", "--name", "Nightly 2", "--to", "ops/webinar b", "--db", url)

    assert result.exit_code == 0, result.output
    source = stored(url, "Nightly", ("Ops", "Webinar A"))
    clone = stored(url, "Nightly 2", ("Ops", "Webinar B"))
    assert source.schedule.recurrence is not None and clone.schedule.recurrence is None
    assert clone.schedule.qualification == source.schedule.qualification
    assert clone.description == "every night"


def test_executable_only_when_asked_again(url: str) -> None:
    """EXE-1, CMP-24: an executable source's clone is executable only with --executable."""
    plain = invoke("clone", "Child", "--name", "Child Plain", "--db", url, "--json")
    again = invoke("clone", "Child", "--name", "Child Exe", "--executable", "--db", url)

    assert plain.exit_code == 0, plain.output
    assert again.exit_code == 0, again.output
    assert json.loads(plain.stdout)["executable"] is False
    assert stored(url, "Child Plain", ("Ops", "Webinar A")).executable is False
    assert stored(url, "Child Exe", ("Ops", "Webinar A")).executable is True
    assert "executable" in again.stdout


def test_a_triggered_campaign_cannot_become_executable(url: str) -> None:
    """CMP-25, EXE-3: refused (709), the trigger named, nothing written."""
    before = dump_tables(url)

    result = invoke("clone", "Listener", "--name", "L2", "--executable", "--db", url, "--json")
    text = invoke("clone", "Listener", "--name", "L2", "--executable", "--db", url)

    assert result.exit_code == 1 and text.exit_code == 1
    document = json.loads(result.stdout)
    assert "EXE_TRIGGER" in {f["code"] for f in document["findings"]}
    assert "CMP-25" in text.output and "Fills Out Form" in text.output
    assert "Traceback" not in text.output
    assert dump_tables(url) == before


def test_the_name_must_be_free_in_the_target_folder(url: str) -> None:
    """CMP-1: unique case-insensitively per folder; the same name elsewhere is fine."""
    before = dump_tables(url)

    taken = invoke("clone", "Nightly", "--name", "  listener ", "--db", url, "--json")

    assert taken.exit_code == 1
    assert json.loads(taken.stdout)["findings"][0]["code"] == "DUPLICATE_NAME"
    assert dump_tables(url) == before
    elsewhere = invoke("clone", "Nightly", "--name", "Listener", "--to", "Ops", "--db", url)
    assert elsewhere.exit_code == 0, elsewhere.output


def test_a_clone_that_adds_an_error_is_refused(url: str) -> None:
    """VAL-1, VAL-3, CMP-26: a second 'Child' makes Listener's reference ambiguous."""
    before = dump_tables(url)

    result = invoke(
        "clone", "Child", "--name", "Child", "--executable", "--to", "Ops", "--db", url, "--json"
    )

    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["code"] == "REF_AMBIGUOUS" and finding["campaign"] == "Listener"
    assert dump_tables(url) == before


def test_unknown_campaign_or_folder_is_a_one_line_error(url: str) -> None:
    """Exit 1 with a message naming what to fix; nothing written."""
    before = dump_tables(url)

    missing = invoke("clone", "Nobody", "--name", "X", "--db", url)
    nowhere = invoke("clone", "Nightly", "--name", "X", "--to", "Ops/Webinar C", "--db", url)

    assert missing.exit_code == 1 and "no campaign named 'Nobody'" in missing.output
    assert nowhere.exit_code == 1 and "Ops/Webinar C" in nowhere.output
    assert dump_tables(url) == before


def test_print_yaml_gives_a_document_that_applies_unchanged(url: str, tmp_path: Path) -> None:
    """Campaigns as code: the clone's YAML, applied back, changes nothing (CMP-24, VAL-1)."""
    result = invoke("clone", "Listener", "--name", "Listener v2", "--print-yaml", "--db", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("workspace: Default\n")
    after_clone = dump_tables(url)

    applied = invoke(
        "apply", str(write(tmp_path, "clone.yaml", result.stdout)), "--db", url, "--json"
    )

    assert applied.exit_code == 0, applied.output
    document = json.loads(applied.stdout)
    assert document["unchanged"]["campaigns"] == ["Listener v2"]
    assert not document["created"]["campaigns"] and not document["updated"]["campaigns"]
    assert dump_tables(url) == after_clone
