"""SIGKILL at any point, then a tick: the same end state as an uninterrupted run (LEDG-4).

A child process arms one fault point (engine/faults.py) and dies by SIGKILL there: inside
a step's transaction, between two steps, inside the Wait's transaction, just after people
woke from a Wait, or inside a resumed chunk's step. A tick in this process then recovers,
and person fields, list memberships, the activity multiset and the run's result counts
must equal those of the same work done without interruption on another database (GEN-2,
GEN-5, LEDG-1/2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crashworker import killed, run_campaign, run_tick
from enginesupport import build, end_state

from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.engine.faults import FAULT_ENV
from kampanj.engine.runs import list_runs, load_result
from kampanj.engine.tick import tick
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=1)
CHUNK = 3  # 7 people: chunks 0..2 before the Wait, fresh chunks 3..5 after it
PEOPLE = "email,leadScore,country\n" + "".join(
    f"p{n}@x.com,{n},{'Sweden' if n % 2 else 'Chile'}\n" for n in range(1, 8)
)
WORLD = """\
workspace: Default
folders:
  - name: F
    lists:
      - name: Hot
    campaigns:
      - name: C
        smartList:
          filters:
            - Lead Score: {at least: 1}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+10"}
          - Change Data Value:
              attribute: Title
              newValue: "scored {{lead.Lead Score}}"
              choices:
                - {if: {Country: is Chile}, newValue: Chilean}
          - Wait: 1 day
          - Add to List: Hot
          - Change Score: {scoreName: Lead Score, change: "+5"}
          - Interesting Moment: {type: Web, description: "back with {{lead.Lead Score}}"}
        schedule: {qualification: every time}
      - name: N
        smartList:
          filters:
            - Lead Score: {at least: 1}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+1"}
          - Interesting Moment: {type: Web, description: "now {{lead.Lead Score}}"}
          - Add to List: Hot
"""


def _counts(result: Any) -> dict[str, Any]:
    document = result.to_json()
    return {k: document[k] for k in ("status", "cohort", "qualified", "waiting", "steps")}


@pytest.fixture
def reference(tmp_path: Path) -> Any:
    """The same world, run and resumed without interruption (SQLite)."""
    directory = tmp_path / "reference"
    directory.mkdir()
    database = Database(f"sqlite:///{directory / 'reference.db'}")
    build(database.url, directory, WORLD, PEOPLE)
    first = run_batch(database, FixedClock(T0), "C", chunk_size=CHUNK).result
    halfway = end_state(database), _counts(first)
    tick(database, FixedClock(LATER))
    with database.read() as connection:
        done = load_result(connection, first.run_id)
    yield {"halfway": halfway, "done": (end_state(database), _counts(done))}
    database.dispose()


def _state(database: Database) -> tuple[dict[str, Any], dict[str, Any]]:
    with database.read() as connection:
        (row,) = list_runs(connection)
        return end_state(database), _counts(load_result(connection, row["id"]))


@pytest.mark.parametrize(
    "fault",
    [
        "before-commit:s2:chunk:1",  # inside a step's transaction
        "after-step:s2:chunk:2",  # between two steps
        "before-commit:s3:chunk:0",  # inside the Wait's transaction
    ],
)
def test_killed_during_the_run(
    database: Database, tmp_path: Path, reference: Any, fault: str
) -> None:
    """LEDG-4: killed during the first part of the run; a tick resumes the running run up
    to the Wait, and the tick after the Wait finishes it."""
    build(database.url, tmp_path, WORLD, PEOPLE)
    killed(run_campaign, database.url, "C", T0.isoformat(), CHUNK, fault)
    report = tick(database, FixedClock(T0))
    assert [a["action"] for a in report.actions] == ["resumed"]
    assert _state(database) == reference["halfway"]
    tick(database, FixedClock(LATER))
    assert _state(database) == reference["done"]


@pytest.mark.parametrize(
    "fault",
    [
        "after-wake:1",  # woken, no step taken yet
        "before-commit:s5:chunk:4",  # inside a resumed chunk's step
        "after-step:s4:chunk:5",  # between two steps after the Wait
    ],
)
def test_killed_while_resuming_a_wait(
    database: Database, tmp_path: Path, reference: Any, fault: str
) -> None:
    """LEDG-4, WAIT-8: killed while a tick resumes waiting people; the next tick continues
    from the first uncommitted (step, chunk), nobody lost, nothing written twice."""
    build(database.url, tmp_path, WORLD, PEOPLE)
    run_batch(database, FixedClock(T0), "C", chunk_size=CHUNK)
    assert _state(database) == reference["halfway"]
    killed(run_tick, database.url, LATER.isoformat(), fault)
    report = tick(database, FixedClock(LATER))
    assert [a["action"] for a in report.actions] == ["resumed"]
    assert _state(database) == reference["done"]


def _kampanj(url: str, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if fault:
        env[FAULT_ENV] = fault
    executable = Path(sys.executable).parent / "kampanj"
    return subprocess.run(
        [str(executable), *args, "--db", url, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_killed_cli_run_is_finished_by_kampanj_tick(database: Database, tmp_path: Path) -> None:
    """LEDG-4 through the CLI: `kampanj run` killed between two steps, `kampanj tick`
    finishes the run with the state of an uninterrupted `kampanj run`."""
    build(database.url, tmp_path, WORLD, PEOPLE)
    crashed = _kampanj(database.url, "run", "N", fault="after-step:s1:chunk:0")
    assert crashed.returncode == -9, crashed.stderr
    ticked = _kampanj(database.url, "tick")
    assert ticked.returncode == 0, ticked.stderr
    (action,) = json.loads(ticked.stdout)["actions"]
    assert (action["action"], action["status"]) == ("resumed", "completed")

    directory = tmp_path / "reference"
    directory.mkdir()
    reference = Database(f"sqlite:///{directory / 'reference.db'}")
    try:
        build(reference.url, directory, WORLD, PEOPLE)
        assert _kampanj(reference.url, "run", "N").returncode == 0
        assert end_state(database) == end_state(reference)
        assert _state(database)[1] == _state(reference)[1]
    finally:
        reference.dispose()
