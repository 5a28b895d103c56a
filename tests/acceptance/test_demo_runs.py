"""`kampanj demo` runs the example workspace's batch campaigns (issue 4) without run errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kampanj.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "lead-lifecycle"


def test_demo_runs_every_batch_campaign_of_the_example(database_url: str, tmp_path: Path) -> None:
    """Promote to MQL runs all its steps (EXE-6 child included); Welcome New People parks
    everyone in its Wait (WAIT-10); no step error anywhere (FLOW-6 would record one)."""
    result = CliRunner().invoke(
        app,
        [
            *("demo", "--people", "1000", "--examples", str(EXAMPLES)),
            *("--workdir", str(tmp_path / "w"), "--db", database_url, "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    runs = {run["campaign"]: run for run in json.loads(result.stdout)["runs"]}

    assert set(runs) == {"Promote to MQL", "Welcome New People"}
    for run in runs.values():
        assert "refused" not in run
        assert run["errors"] == []
    promote = runs["Promote to MQL"]
    assert promote["status"] == "completed" and promote["qualified"] > 0
    assert {
        path: step["executed"] for path, step in promote["steps"].items() if "/" not in path
    } == {f"s{n}": promote["qualified"] for n in range(1, 8)}
    welcome = runs["Welcome New People"]
    assert welcome["status"] == "running"
    assert welcome["waiting"] == welcome["qualified"] > 0
