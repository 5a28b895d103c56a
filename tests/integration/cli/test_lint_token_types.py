"""`kampanj lint` / `apply` warn about token values that will not fit (FLOW-5, FLOW-6, VAL-3)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kampanj.cli.app import app
from testsupport import write

runner = CliRunner()

DEFINITIONS = """\
fields:
  - {name: behaviorScore, displayName: Behavior Score, type: score}
  - {name: signedUp, displayName: Signed Up, type: date}
tokens:
  Bonus: {type: score, value: "+5"}
workspace: Default
programs:
  - name: Scoring
    campaigns:
      - name: Reward
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Change Data Value: {attribute: Signed Up, newValue: "{{system.date}}"}
          - Change Score: {scoreName: Behavior Score, change: "+{{my.Bonus}}"}
"""


def _file(tmp_path: Path) -> str:
    return str(write(tmp_path, "reward.yaml", DEFINITIONS))


def test_lint_warns_in_text_and_json_and_strict_fails(tmp_path: Path) -> None:
    """VAL-2/VAL-6: one line per mistake naming campaign, step location, token and fix;
    exit 0 (warnings), 1 with --strict."""
    file = _file(tmp_path)
    db = str(tmp_path / "none.db")
    text = runner.invoke(app, ["lint", file, "--db", db])
    assert text.exit_code == 0, text.output
    lines = [line for line in text.stdout.splitlines() if "TOKEN_TYPE_MISMATCH" in line]
    assert len(lines) == 2
    assert "warning TOKEN_TYPE_MISMATCH Reward (flow.s1.newValue)" in lines[0]
    assert "{{system.date}}" in lines[0] and "'Signed Up' (date)" in lines[0]
    assert "warning TOKEN_TYPE_MISMATCH Reward (flow.s2.change)" in lines[1]
    assert "'++5'" in lines[1] and "('{{my.Bonus}}')" in lines[1]
    document = json.loads(runner.invoke(app, ["lint", file, "--db", db, "--json"]).stdout)
    assert (document["errors"], document["warnings"]) == (0, 2)
    assert runner.invoke(app, ["lint", file, "--db", db, "--strict"]).exit_code == 1


def test_apply_reports_the_warnings_and_writes(database_url: str, tmp_path: Path) -> None:
    """VAL-3: the same validator runs on apply; warnings are reported and never block."""
    result = runner.invoke(app, ["apply", _file(tmp_path), "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["errors"] == 0
    assert [f["code"] for f in document["findings"]] == ["TOKEN_TYPE_MISMATCH"] * 2
    assert document["created"]["campaigns"]
