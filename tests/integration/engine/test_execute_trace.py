"""`kampanj runs show RUN --person P`: the nested execution of one person (PROV-3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from enginesupport import build
from executesupport import PEOPLE
from test_execute_campaign import INLINE, REMOVAL
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
runner = CliRunner()


def _trace(database: Database, run_id: int, person_id: int) -> dict[str, object]:
    arguments = ["runs", "show", str(run_id), "--person", str(person_id)]
    result = runner.invoke(app, [*arguments, "--db", database.url, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_trace_nests_children_and_stops_at_a_removal(database: Database, tmp_path: Path) -> None:
    """PROV-3 with EXE-18: step → child (Qualified) → grandchild → Remove from Flow; the
    person's later steps at every level are absent; another person runs to the end."""
    build(database.url, tmp_path, REMOVAL, PEOPLE)
    run_id = run_batch(database, FixedClock(T0), "Sweep").result.run_id
    removed = _trace(database, run_id, 1)["trace"]
    assert isinstance(removed, dict)
    gatekeeper = removed["steps"][0]["call"]
    inner = gatekeeper["steps"][0]["call"]
    assert (gatekeeper["campaign"], gatekeeper["qualified"], gatekeeper["depth"]) == (
        "Gatekeeper",
        True,
        1,
    )
    assert [s["callPath"] for s in inner["steps"]] == ["s1/s1/s1"]
    assert inner["removed"] is True
    assert inner["steps"][0]["activities"][0]["activityTypeId"] == 903
    assert [s["callPath"] for s in gatekeeper["steps"]] == ["s1/s1"]
    assert [s["callPath"] for s in removed["steps"]] == ["s1"]

    kept = _trace(database, run_id, 2)["trace"]
    assert isinstance(kept, dict)
    inner = kept["steps"][0]["call"]["steps"][0]["call"]
    assert [(s["callPath"], len(s["activities"])) for s in inner["steps"]] == [
        ("s1/s1/s1", 0),
        ("s1/s1/s2", 1),
    ]
    assert [(s["callPath"], len(s["activities"])) for s in kept["steps"]] == [
        ("s1", 1),
        ("s2", 1),
    ]


def test_trace_shows_a_rejected_person_continuing(database: Database, tmp_path: Path) -> None:
    """EXE-10/11 in the trace: Qualified false with its reason, then the caller's next step."""
    build(database.url, tmp_path, INLINE, PEOPLE)
    run_id = run_batch(database, FixedClock(T0), "Parent").result.run_id
    trace = _trace(database, run_id, 2)["trace"]
    assert isinstance(trace, dict)
    call = trace["steps"][0]["call"]
    assert (call["qualified"], call["reason"], call["steps"]) == (False, "smart list", [])
    assert trace["steps"][1]["activities"][0]["attributes"]["New Value"] == "Small"
    text = runner.invoke(app, ["runs", "show", str(run_id), "--person", "2", "--db", database.url])
    assert text.exit_code == 0, text.output
    assert "→ Child: not qualified: smart list" in text.output
    missing = runner.invoke(app, ["runs", "show", "999", "--person", "2", "--db", database.url])
    assert missing.exit_code == 1
