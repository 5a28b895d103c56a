"""`kampanj run --at`, `schedule list|cancel`, `tick`, `worker`, `abort` on both databases."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.store.database import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from enginesupport import build
from test_waits import PEOPLE, WAIT_FLOW, world

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # long before the wall clock these tests read
FAR = "2999-01-01T00:00:00"


def _invoke(*args: str) -> tuple[int, Any]:
    result = runner.invoke(app, list(args))
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_schedule_list_cancel(database_url: str, tmp_path: Path) -> None:
    """CMP-8 (`run --at`, naive = account zone, past refused), CMP-11 (cancel)."""
    build(database_url, tmp_path, world(WAIT_FLOW), PEOPLE)
    code, first = _invoke("run", "C", "--at", FAR, "--db", database_url, "--json")
    assert code == 0, first
    assert first["status"] == "pending" and first["runAt"].startswith("2999-01-01T00:00:00")
    code, second = _invoke("run", "C", "--at", FAR, "--db", database_url, "--json")
    assert code == 0 and second["id"] != first["id"]
    code, past = _invoke("run", "C", "--at", "2020-01-01", "--db", database_url, "--json")
    assert code == 1 and "past" in past["error"]
    code, listed = _invoke("schedule", "list", "--db", database_url, "--json")
    assert code == 0 and [s["id"] for s in listed["scheduled"]] == [first["id"], second["id"]]
    code, cancelled = _invoke(
        "schedule", "cancel", str(first["id"]), "--db", database_url, "--json"
    )
    assert code == 0 and cancelled["status"] == "cancelled"
    code, again = _invoke("schedule", "cancel", str(first["id"]), "--db", database_url, "--json")
    assert code == 1 and "not pending" in again["error"]
    code, listed = _invoke("schedule", "list", "--db", database_url, "--json")
    assert [s["id"] for s in listed["scheduled"]] == [second["id"]]
    text = runner.invoke(app, ["schedule", "list", "--all", "--db", database_url])
    assert text.exit_code == 0 and "cancelled" in text.stdout
    code, nothing = _invoke("tick", "--db", database_url, "--json")
    assert code == 0 and nothing == {"actions": []}


def test_tick_resumes_due_waits_and_abort(database_url: str, tmp_path: Path) -> None:
    """GEN-4: `kampanj tick` resumes people whose Wait ended; CMP-29: `kampanj abort`."""
    build(database_url, tmp_path, world(WAIT_FLOW), PEOPLE)
    database = Database(database_url)
    try:
        first = run_batch(database, FixedClock(T0), "C").result.run_id
        second = run_batch(database, FixedClock(T0), "C").result.run_id
    finally:
        database.dispose()
    text = runner.invoke(app, ["runs", "show", str(first), "--db", database_url])
    assert "running" in text.stdout and "waiting 7" in text.stdout
    code, aborted = _invoke("abort", str(second), "--db", database_url, "--json")
    assert code == 0 and [r["status"] for r in aborted["aborted"]] == ["aborted"]
    code, report = _invoke("tick", "--db", database_url, "--json")
    assert code == 0
    assert [(a["action"], a["runId"], a["people"]) for a in report["actions"]] == [
        ("woke", first, 7)
    ]
    code, shown = _invoke("runs", "show", str(first), "--db", database_url, "--json")
    assert shown["status"] == "completed" and shown["steps"]["s4"]["executed"] == 7
    code, none_left = _invoke("abort", "--campaign", "C", "--db", database_url, "--json")
    assert code == 0 and none_left == {"aborted": [], "deactivated": False}
    code, both = _invoke("abort", "1", "--campaign", "C", "--db", database_url, "--json")
    assert code == 1 and "either" in both["error"]


def test_worker_stops_after_max_ticks(database_url: str) -> None:
    code, document = _invoke(
        "worker", "--max-ticks", "2", "--interval", "0", "--db", database_url, "--json"
    )
    assert code == 0 and document == {"ticks": 2, "actions": []}


def test_worker_shuts_down_cleanly_on_sigterm(database_url: str) -> None:
    """A worker stops cleanly (exit 0, after its current tick) on SIGTERM; it says when it
    is listening, so the signal is never sent before the handler is installed."""
    executable = Path(sys.executable).parent / "kampanj"
    worker = subprocess.Popen(
        [str(executable), "worker", "--interval", "3600", "--db", database_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().startswith("worker started")
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, err
    # The signal may land before or during the first tick: either way a clean stop.
    assert re.search(r"worker stopped after [01] tick\(s\)", out), out
