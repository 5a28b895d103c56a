"""`kampanj lint` and `kampanj apply` end to end (VAL-1, VAL-3, VAL-6, EXE-1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app
from testsupport import ACCOUNT_YAML as ACCOUNT
from testsupport import dump_tables, write

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

PROGRAM = """\
workspace: Default
programs:
  - name: Webinar A
    channel: Webinar
    tokens:
      Points: {type: score, value: "+5"}
    emails:
      - name: Invite
        subject: "Join us"
    campaigns:
      - name: Score Engagement
        key: score
        executable: true
        schedule: {qualification: any}
        flow:
          - Change Score: {scoreName: Behavior Score, change: "{{my.Points}}"}
      - name: Invite Engaged
        smartList:
          filters:
            - Lead Score: {at least: 10}
        flow:
          - Send Email: Invite
          - Execute Campaign: {campaign: Score Engagement, useParentContext: true}
"""

# Three mistakes, on lines 13, 14 and 15: an unknown email, a call to a campaign that
# is not executable, and a list that does not exist.
THREE_MISTAKES = """\
workspace: Default
folders:
  - name: Ops
    campaigns:
      - name: Helper
        flow:
          - Delete Person
      - name: Caller
        smartList:
          filters:
            - Lead Score: {at least: 10}
        flow:
          - Send Email: No Such Email
          - Execute Campaign: {campaign: Helper}
          - Add to List: Missing List
"""
MISTAKE_LINES = {13, 14, 15}


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def good_files(tmp_path: Path) -> list[str]:
    """The account and program files that lint clean, as CLI arguments."""
    return [str(write(tmp_path, "account.yaml", ACCOUNT)), str(write(tmp_path, "p.yaml", PROGRAM))]


def test_apply_of_two_files_where_one_is_wrong_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    """VAL-3: any error finding means nothing is written; the finding names file and line."""
    good = write(tmp_path, "account.yaml", ACCOUNT)
    bad = write(tmp_path, "ops.yaml", THREE_MISTAKES)
    before = dump_tables(database_url)

    result = invoke("apply", str(good), str(bad), "--db", database_url)

    assert result.exit_code == 1, result.output
    assert dump_tables(database_url) == before
    assert "nothing written" in result.output
    assert f"{bad}:13" in result.output


def test_apply_then_reapply_reports_unchanged(database_url: str, tmp_path: Path) -> None:
    """Re-applying the same files is a no-op: everything reported unchanged."""
    files = good_files(tmp_path)

    first = invoke("apply", *files, "--db", database_url, "--json")
    assert first.exit_code == 0, first.output
    created = json.loads(first.stdout)["created"]
    assert created["campaigns"] == ["Score Engagement", "Invite Engaged"]
    assert created["fields"] == ["behaviorScore", "trail"]
    after_first = dump_tables(database_url)

    second = invoke("apply", *files, "--db", database_url, "--json")
    assert second.exit_code == 0, second.output
    document = json.loads(second.stdout)
    assert all(not names for names in document["created"].values())
    assert all(not names for names in document["updated"].values())
    assert document["unchanged"]["campaigns"] == ["Score Engagement", "Invite Engaged"]
    assert document["errors"] == 0
    assert dump_tables(database_url) == after_first

    text = invoke("apply", *files, "--db", database_url)
    assert text.exit_code == 0, text.output
    assert "nothing to change" in text.output


def test_apply_refuses_to_change_executable(database_url: str, tmp_path: Path) -> None:
    """EXE-1: the executable flag is fixed; --force does not override it."""
    files = good_files(tmp_path)
    assert invoke("apply", *files, "--db", database_url).exit_code == 0
    flipped = PROGRAM.replace("executable: true", "executable: false")
    write(tmp_path, "p.yaml", flipped)
    before = dump_tables(database_url)

    result = invoke("apply", *files, "--db", database_url, "--force")

    assert result.exit_code == 1
    assert "EXE-1" in result.output
    assert "Traceback" not in result.output
    assert dump_tables(database_url) == before


def test_apply_force_writes_despite_errors_and_reports_them(
    database_url: str, tmp_path: Path
) -> None:
    """VAL-3: --force writes and reports the findings."""
    account = write(tmp_path, "account.yaml", ACCOUNT)
    bad = write(tmp_path, "ops.yaml", THREE_MISTAKES)
    result = invoke("apply", str(account), str(bad), "--db", database_url, "--force", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["errors"] == 3
    assert document["created"]["campaigns"] == ["Helper", "Caller"]


def test_lint_reports_three_mistakes_with_lines(tmp_path: Path) -> None:
    """VAL-2, VAL-6: every finding with file and line; errors exit 1."""
    bad = write(tmp_path, "ops.yaml", THREE_MISTAKES)
    database = tmp_path / "absent.db"

    result = invoke(
        "lint", str(write(tmp_path, "account.yaml", ACCOUNT)), str(bad), "--db", str(database)
    )

    assert result.exit_code == 1, result.output
    for line in MISTAKE_LINES:
        assert f"{bad}:{line}" in result.output
    assert "3 errors, 0 warnings" in result.output
    assert not database.exists(), "lint never creates a database"


def test_lint_json_shape(tmp_path: Path) -> None:
    """VAL-6: ``{"findings": [...], "errors": n, "warnings": n}``."""
    bad = write(tmp_path, "ops.yaml", THREE_MISTAKES)
    result = invoke(
        "lint",
        str(write(tmp_path, "account.yaml", ACCOUNT)),
        str(bad),
        "--json",
        "--db",
        str(tmp_path / "x.db"),
    )

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert set(document) == {"findings", "errors", "warnings"}
    errors = [f for f in document["findings"] if f["severity"] == "error"]
    assert document["errors"] == len(errors) == 3
    assert {f["line"] for f in errors} == MISTAKE_LINES
    assert {f["code"] for f in errors} == {"REF_UNKNOWN", "EXE_TARGET"}
    assert all(f["file"] == str(bad) for f in errors)


def test_lint_of_good_files_exits_zero(tmp_path: Path) -> None:
    files = good_files(tmp_path)
    result = invoke("lint", *files, "--db", str(tmp_path / "x.db"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["errors"] == 0


def test_lint_merges_over_the_stored_definitions(database_url: str, tmp_path: Path) -> None:
    """VAL-1: lint validates the state that applying would produce."""
    account = write(tmp_path, "account.yaml", ACCOUNT)
    assert (
        invoke(
            "apply", str(account), str(write(tmp_path, "p.yaml", PROGRAM)), "--db", database_url
        ).exit_code
        == 0
    )
    # Refers to the stored email and campaign without redefining them.
    caller = write(
        tmp_path,
        "caller.yaml",
        """\
workspace: Default
programs:
  - name: Webinar A
    campaigns:
      - name: Late Caller
        smartList:
          filters:
            - Lead Score: {at least: 1}
        flow:
          - Send Email: Invite
          - Execute Campaign: {campaign: Score Engagement}
""",
    )
    result = invoke("lint", str(caller), "--db", database_url, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["errors"] == 0


def test_apply_json_shape(database_url: str, tmp_path: Path) -> None:
    files = good_files(tmp_path)
    result = invoke("apply", *files, "--db", database_url, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {"created", "updated", "unchanged", "findings", "errors", "warnings"} <= set(document)


def test_apply_the_lead_lifecycle_example(database_url: str) -> None:
    result = invoke("apply", str(EXAMPLES / "lead-lifecycle"), "--db", database_url, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["errors"] == 0
    assert document["created"]["campaigns"]
    again = invoke("apply", str(EXAMPLES / "lead-lifecycle"), "--db", database_url, "--json")
    assert all(not names for names in json.loads(again.stdout)["updated"].values())


WARNING_ONLY = """\
workspace: Default
folders:
  - name: Ops
    campaigns:
      - name: Sweep
        smartList:
          filters:
            - Lead Score: {at least: 10}
          logic: "1"
        flow:
          - Delete Person
"""


def test_lint_strict_fails_on_warnings_only(tmp_path: Path) -> None:
    """VAL-6: warnings exit 0, unless --strict."""
    file = str(write(tmp_path, "warn.yaml", WARNING_ONLY))
    db = str(tmp_path / "none.db")
    relaxed = invoke("lint", file, "--db", db, "--json")
    assert relaxed.exit_code == 0, relaxed.output
    document = json.loads(relaxed.stdout)
    assert document["errors"] == 0 and document["warnings"] >= 1
    assert invoke("lint", file, "--db", db, "--strict").exit_code == 1


@pytest.mark.parametrize("command", ["lint", "apply"])
@pytest.mark.parametrize("given", ["missing.yaml", "empty-dir"])
def test_a_path_without_definitions_exits_1(
    command: str, given: str, database_url: str, tmp_path: Path
) -> None:
    """A path that does not exist, or a directory without YAML, is an error; nothing written."""
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "empty-dir" / "notes.txt").write_text("not definitions", encoding="utf-8")
    path = str(tmp_path / given)
    before = dump_tables(database_url)

    result = invoke(command, path, "--db", database_url, "--json")

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["errors"] == 1
    (finding,) = document["findings"]
    assert finding["code"] == "PATH_INVALID" and finding["file"] == path
    assert path in finding["message"]
    assert dump_tables(database_url) == before
    text = invoke(command, path, "--db", database_url)
    assert text.exit_code == 1
    assert f"{path}: error PATH_INVALID {path} " in text.stdout


def test_a_nul_character_is_a_finding_not_a_database_error(
    database_url: str, tmp_path: Path
) -> None:
    """PostgreSQL cannot store NUL in text: lint reports it with its line; apply writes nothing,
    and --force writes the value without the NUL rather than failing in the database."""
    file = write(
        tmp_path,
        "nul.yaml",
        'workspace: Default\nfolders:\n  - name: Ops\n    lists: [{name: "MQL\\0s"}]\n',
    )
    before = dump_tables(database_url)

    result = invoke("apply", str(file), "--db", database_url, "--json")

    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["code"], finding["line"]) == ("YAML_INVALID", 4)
    assert "NUL" in finding["message"]
    assert dump_tables(database_url) == before

    forced = invoke("apply", str(file), "--db", database_url, "--json", "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["created"]["staticLists"] == ["MQLs"]
