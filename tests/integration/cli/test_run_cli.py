"""`kampanj run`, `runs`, `runs show` on both databases (CMP-8, GEN-6, TOK-16/17)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kampanj.cli.app import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from enginesupport import build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "lead-lifecycle"
runner = CliRunner()


def _invoke(*args: str) -> tuple[int, Any]:
    result = runner.invoke(app, list(args))
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_run_with_overrides_then_list_and_show(database_url: str, tmp_path: Path) -> None:
    """TOK-16: an accepted override changes the score; TOK-17: an ignored one is reported."""
    build(database_url, tmp_path)
    code, document = _invoke(
        "run",
        "Nightly",
        "--token",
        "{{my.Bonus}}=+100",
        "--token",
        "{{my.Nope}}=1",
        "--db",
        database_url,
        "--json",
    )
    assert code == 0, document
    assert document["status"] == "completed" and document["qualified"] == 6
    assert document["steps"]["s2"]["executed"] == 6
    assert document["tokenOverrides"] == {"Bonus": "+100"}
    assert len(document["ignoredOverrides"]) == 1 and "my.Nope" in document["ignoredOverrides"][0]
    code, listed = _invoke("runs", "--db", database_url, "--json")
    assert code == 0 and [r["runId"] for r in listed["runs"]] == [document["runId"]]
    code, shown = _invoke("runs", "show", str(document["runId"]), "--db", database_url, "--json")
    assert code == 0 and shown["steps"] == document["steps"]
    code, missing = _invoke("runs", "show", "999", "--db", database_url, "--json")
    assert code == 1 and "no run 999" in missing["error"]
    text = runner.invoke(app, ["runs", "show", str(document["runId"]), "--db", database_url])
    assert text.exit_code == 0 and "completed" in text.stdout


def test_example_batch_campaign_runs_every_step(database_url: str) -> None:
    """FLOW-24, EXE-6: Promote to MQL (program status, list, Execute Campaign) runs to the end."""
    assert runner.invoke(app, ["apply", str(EXAMPLE), "--db", database_url]).exit_code == 0
    code, document = _invoke("run", "Promote to MQL", "--db", database_url, "--json")
    assert code == 0, document
    assert document["status"] == "completed"
    assert list(document["steps"])[:7] == ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]
    code, listed = _invoke("runs", "--db", database_url, "--json")
    assert [r["runId"] for r in listed["runs"]] == [document["runId"]]


def test_executable_and_unknown_campaigns_are_refused(database_url: str) -> None:
    """CMP-8, EXE-2: an executable is refused; an unknown name gets close matches."""
    assert runner.invoke(app, ["apply", str(EXAMPLE), "--db", database_url]).exit_code == 0
    code, document = _invoke("run", "Notify Sales", "--db", database_url, "--json")
    assert code == 1 and "executable" in document["error"]
    code, document = _invoke("run", "Promote to MQX", "--db", database_url, "--json")
    assert code == 1 and "Promote to MQL" in document["error"]
    result = runner.invoke(app, ["run", "x", "--token", "novalue", "--db", database_url])
    assert result.exit_code == 1 and "NAME=VALUE" in result.output
