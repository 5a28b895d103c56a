"""Executable-campaign restrictions are definition errors in lint and apply (issue 5 item 6).

Each case is checked three ways: `kampanj lint` reports the code (exit 1, the text line
names the campaign), `kampanj apply` is refused, and the database is unchanged
afterwards (VAL-3: the check runs before anything is written).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app
from testsupport import ACCOUNT_YAML, dump_tables, write

runner = CliRunner()

WEBHOOK = "webhooks: [{name: Hook, url: 'https://hooks.example/x'}]\n"
TRIGGER = "smartList: {triggers: [{Fills Out Form: {Form: is 20}}]}"


def campaigns_file(campaigns: str, *, header: str = "", extra: str = "") -> str:
    """A Default-workspace file with program ``P`` holding ``campaigns``."""
    body = textwrap.indent(textwrap.dedent(campaigns).strip("\n"), " " * 6)
    return header + "workspace: Default\nprograms:\n  - name: P\n    campaigns:\n" + body + extra


CASES: dict[str, tuple[str, str, str]] = {
    # id: (code, campaign the finding names, file)
    "EXE-3 wait": (
        "EXE_WAIT",
        "Child",
        campaigns_file(
            """
            - name: Child
              executable: true
              flow: [{Change Score: {scoreName: Behavior Score, change: "+1"}}, {Wait: 1 day}]
            """
        ),
    ),
    "EXE-3 webhook with choices": (
        "EXE_WEBHOOK",
        "Child",
        campaigns_file(
            """
            - name: Child
              executable: true
              flow:
                - Call Webhook:
                    webhook: Hook
                    choices:
                      - {if: {Lead Score: {at least: 10}}, doNothing: true}
            """,
            header=WEBHOOK,
        ),
    ),
    "EXE-3 trigger": (
        "EXE_TRIGGER",
        "Child",
        campaigns_file(
            f"""
            - name: Child
              executable: true
              {TRIGGER}
              flow: [{{Delete Person}}]
            """
        ),
    ),
    "EXE-5 WS-2 other workspace": (
        "XWS_REF",
        "Caller",
        campaigns_file(
            f"""
            - name: Caller
              {TRIGGER}
              flow: [{{Execute Campaign: Elsewhere}}]
            """,
            extra="\n---\nworkspace: EMEA\nprograms:\n  - name: Q\n    campaigns:\n"
            "      - {name: Elsewhere, executable: true, flow: [{Delete Person}]}\n",
        ),
    ),
    "EXE-5 WS-2 other workspace, by path": (
        "XWS_REF",
        "Caller",
        campaigns_file(
            f"""
            - name: Caller
              {TRIGGER}
              flow: [{{Execute Campaign: Q/Elsewhere}}]
            """,
            extra="\n---\nworkspace: EMEA\nprograms:\n  - name: Q\n    campaigns:\n"
            "      - {name: Elsewhere, executable: true, flow: [{Delete Person}]}\n",
        ),
    ),
    "EXE-5 target not executable (in a choice)": (
        "EXE_TARGET",
        "Caller",
        campaigns_file(
            f"""
            - name: Caller
              {TRIGGER}
              flow:
                - Execute Campaign:
                    campaign: Child
                    choices:
                      - {{if: {{Lead Score: {{at least: 10}}}}, campaign: Plain}}
            - {{name: Child, executable: true, flow: [{{Delete Person}}]}}
            - name: Plain
              smartList: {{filters: [{{Lead Score: {{at least: 1}}}}]}}
              flow: [{{Delete Person}}]
            """
        ),
    ),
    "EXE-15 self-call": (
        "EXE_CYCLE",
        "Loop",
        campaigns_file(
            """
            - {name: Loop, executable: true, flow: [{Execute Campaign: Loop}]}
            """
        ),
    ),
    "EXE-15 cycle through a choice": (
        "EXE_CYCLE",
        "B",
        campaigns_file(
            """
            - {name: A, executable: true, flow: [{Execute Campaign: B}]}
            - name: B
              executable: true
              flow:
                - Execute Campaign:
                    campaign: C
                    choices: [{if: {Lead Score: {at least: 10}}, campaign: A}]
            - {name: C, executable: true, flow: [{Delete Person}]}
            """
        ),
    ),
    "EXE-15 WX-2 four levels": (
        "EXE_DEPTH",
        "T",
        campaigns_file(
            f"""
            - name: T
              {TRIGGER}
              flow: [{{Execute Campaign: E1}}]
            - {{name: E1, executable: true, flow: [{{Execute Campaign: E2}}]}}
            - {{name: E2, executable: true, flow: [{{Execute Campaign: E3}}]}}
            - {{name: E3, executable: true, flow: [{{Execute Campaign: E4}}]}}
            - {{name: E4, executable: true, flow: [{{Delete Person}}]}}
            """
        ),
    ),
    "EXE-15 maxExecuteDepth setting": (
        "EXE_DEPTH",
        "T",
        campaigns_file(
            f"""
            - name: T
              {TRIGGER}
              flow: [{{Execute Campaign: E1}}]
            - {{name: E1, executable: true, flow: [{{Execute Campaign: E2}}]}}
            - {{name: E2, executable: true, flow: [{{Delete Person}}]}}
            """,
            header="settings: {maxExecuteDepth: 1}\n",
        ),
    ),
    "EXE-15 executables nobody calls yet": (
        "EXE_DEPTH",
        "E1",
        campaigns_file(
            """
            - {name: E1, executable: true, flow: [{Execute Campaign: E2}]}
            - {name: E2, executable: true, flow: [{Execute Campaign: E3}]}
            - {name: E3, executable: true, flow: [{Execute Campaign: E4}]}
            - {name: E4, executable: true, flow: [{Delete Person}]}
            """
        ),
    ),
}


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("case", sorted(CASES))
def test_lint_reports_the_restriction_and_names_the_campaign(case: str, tmp_path: Path) -> None:
    """EXE-3, EXE-5, EXE-15, WS-2, VAL-6: an error finding, exit 1; text names the campaign."""
    code, campaign, text = CASES[case]
    files = [
        str(write(tmp_path, "account.yaml", ACCOUNT_YAML)),
        str(write(tmp_path, "p.yaml", text)),
    ]
    no_db = ["--db", f"sqlite:///{tmp_path / 'absent.db'}"]

    as_json = invoke("lint", *files, *no_db, "--json")
    as_text = invoke("lint", *files, *no_db)

    assert as_json.exit_code == 1, as_json.output
    findings = [f for f in json.loads(as_json.stdout)["findings"] if f["code"] == code]
    assert findings and all(f["severity"] == "error" for f in findings)
    assert campaign in {f["campaign"] for f in findings}
    assert as_text.exit_code == 1
    lines = [line for line in as_text.stdout.splitlines() if f"error {code} " in line]
    assert any(f"error {code} {campaign} (" in line for line in lines), lines
    assert all(line.startswith(f"{tmp_path}") for line in lines)


@pytest.mark.parametrize("case", sorted(CASES))
def test_apply_refuses_the_restriction_and_writes_nothing(
    case: str, database_url: str, tmp_path: Path
) -> None:
    """VAL-3 with EXE-3, EXE-5, EXE-15, WS-2: refused before anything is written."""
    code, _, text = CASES[case]
    account = write(tmp_path, "account.yaml", ACCOUNT_YAML)
    assert invoke("apply", str(account), "--db", database_url).exit_code == 0
    before = dump_tables(database_url)

    result = invoke("apply", str(write(tmp_path, "p.yaml", text)), "--db", database_url, "--json")

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert code in {f["code"] for f in document["findings"] if f["severity"] == "error"}
    assert all(not names for names in document["created"].values())
    assert dump_tables(database_url) == before


def test_apply_refuses_a_change_that_deepens_a_stored_chain(
    database_url: str, tmp_path: Path
) -> None:
    """EXE-15, WX-2 step 2: T > E1 > E2 > E3 applies; giving E3 a call to E4 is refused."""
    three = campaigns_file(
        f"""
        - name: T
          {TRIGGER}
          flow: [{{Execute Campaign: E1}}]
        - {{name: E1, executable: true, flow: [{{Execute Campaign: E2}}]}}
        - {{name: E2, executable: true, flow: [{{Execute Campaign: E3}}]}}
        - {{name: E3, executable: true, flow: [{{Delete Person}}]}}
        - {{name: E4, executable: true, flow: [{{Delete Person}}]}}
        """
    )
    account = str(write(tmp_path, "account.yaml", ACCOUNT_YAML))
    first = invoke("apply", account, str(write(tmp_path, "p.yaml", three)), "--db", database_url)
    assert first.exit_code == 0, first.output
    before = dump_tables(database_url)
    # Only E3 is in the new file: the chain above it comes from the database.
    deeper = campaigns_file("- {name: E3, executable: true, flow: [{Execute Campaign: E4}]}\n")

    result = invoke(
        "apply", str(write(tmp_path, "e3.yaml", deeper)), "--db", database_url, "--json"
    )

    assert result.exit_code == 1, result.output
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "EXE_DEPTH"]
    assert finding["campaign"] == "T" and len(finding["path"]) == 5
    assert dump_tables(database_url) == before


def test_lint_warns_for_every_reachable_child_with_an_invalid_smart_list(tmp_path: Path) -> None:
    """EXE-24, EXE-12: CHILD_SMART_LIST_INVALID at each call into a broken child; a warning."""
    text = campaigns_file(
        f"""
        - name: T
          {TRIGGER}
          flow: [{{Execute Campaign: Middle}}]
        - name: Middle
          executable: true
          flow: [{{Execute Campaign: Broken}}, {{Execute Campaign: Fine}}]
        - name: Broken
          executable: true
          smartList: {{filters: [{{Member of Smart List: {{in: [Gone]}}}}]}}
          flow: [{{Delete Person}}]
        - {{name: Fine, executable: true, flow: [{{Delete Person}}]}}
        """
    )
    files = [
        str(write(tmp_path, "account.yaml", ACCOUNT_YAML)),
        str(write(tmp_path, "p.yaml", text)),
    ]

    result = invoke("lint", *files, "--db", f"sqlite:///{tmp_path / 'absent.db'}", "--json")

    warnings = [
        f for f in json.loads(result.stdout)["findings"] if f["code"] == "CHILD_SMART_LIST_INVALID"
    ]
    assert [(f["campaign"], f["location"], f["severity"]) for f in warnings] == [
        ("T", "flow.s1", "warning")
    ]
    assert "Middle calls executable 'Broken'" in warnings[0]["message"]
