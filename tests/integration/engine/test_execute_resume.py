"""Crash safety of runs with Execute Campaign, both databases (GEN-5, LEDG-1/2/4, EXE-6).

A caller's (step, chunk) and the whole nested child flow for that chunk are one
transaction: a crash after it leaves every marker committed, a crash inside it leaves
nothing, and resuming reaches the end state of an uninterrupted run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from enginesupport import build, end_state
from executesupport import scratch_rows, world

from kampanj.clock import FixedClock
from kampanj.engine import cohort
from kampanj.engine.batch import resume_run, run_batch
from kampanj.engine.frame import FlowRun, Frame
from kampanj.engine.runs import RunStatus
from kampanj.store import schema
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PEOPLE = "email,leadScore\n" + "".join(f"p{i}@x.com,{i * 4}\n" for i in range(1, 8))

NESTED = world("""\
      - name: Parent
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+1"}
          - Execute Campaign: {campaign: Child}
          - Add to List: Cold
        schedule: {qualification: every time}
      - name: Child
        executable: true
        smartList: {filters: [{Lead Score: {at least: 9}}]}
        schedule: {qualification: every time}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+100"}
          - Execute Campaign: {campaign: Grandchild}
      - name: Grandchild
        executable: true
        schedule: {qualification: every time}
        flow:
          - Add to List: Hot
          - Interesting Moment: {type: Web, description: "deep {{lead.Lead Score}}"}
""")


class _Crash(Exception):
    pass


def _expected(tmp_path: Path) -> dict[str, object]:
    reference = Database(f"sqlite:///{tmp_path / 'reference.db'}")
    reference.migrate()
    (tmp_path / "ref").mkdir()
    build(reference.url, tmp_path / "ref", NESTED, PEOPLE)
    run_batch(reference, FixedClock(T0), "Parent", chunk_size=3)
    expected = end_state(reference)
    reference.dispose()
    return expected


def _last_run(database: Database) -> int:
    with database.read() as connection:
        return int(connection.execute(sa.select(sa.func.max(schema.run.c.id))).scalar_one())


def _markers(database: Database, run_id: int) -> set[tuple[int, str]]:
    with database.read() as connection:
        rows = connection.execute(
            sa.select(schema.run_progress.c.chunk, schema.run_progress.c.call_path).where(
                schema.run_progress.c.run_id == run_id
            )
        )
        return {(row.chunk, row.call_path) for row in rows}


def test_crash_after_a_call_commits_resumes_without_repeating_it(
    database: Database, tmp_path: Path
) -> None:
    """The call for chunk 0 committed with every nested marker; resuming skips it."""
    expected = _expected(tmp_path)
    build(database.url, tmp_path, NESTED, PEOPLE)
    seen: list[tuple[str, int]] = []

    def crash(call_path: str, chunk: int) -> None:
        seen.append((call_path, chunk))
        if (call_path, chunk) == ("s2", 0):
            raise _Crash

    with pytest.raises(_Crash):
        run_batch(database, FixedClock(T0), "Parent", chunk_size=3, on_chunk=crash)
    run_id = _last_run(database)
    markers = _markers(database, run_id)
    assert {(0, "s2"), (0, "s2/s1"), (0, "s2/s2"), (0, "s2/s2/s1"), (0, "s2/s2/s2")} <= markers
    assert (1, "s2") not in markers
    result = resume_run(database, FixedClock(T0), run_id)
    assert result.status is RunStatus.COMPLETED
    assert end_state(database) == expected
    assert scratch_rows(database) == 0


def test_crash_inside_a_call_rolls_the_whole_call_back(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure in the grandchild's flow for chunk 1 undoes the caller's step, the
    child's and the 901s of that chunk together; resuming redoes the call once."""
    expected = _expected(tmp_path)
    build(database.url, tmp_path, NESTED, PEOPLE)
    original = cohort.run_child_flow

    def failing(connection: sa.Connection, flow: FlowRun, frame: Frame) -> None:
        original(connection, flow, frame)
        if frame.depth == 2 and frame.chunk == 1:
            raise _Crash

    monkeypatch.setattr(cohort, "run_child_flow", failing)
    with pytest.raises(_Crash):
        run_batch(database, FixedClock(T0), "Parent", chunk_size=3)
    run_id = _last_run(database)
    assert not {m for m in _markers(database, run_id) if m[0] == 1 and m[1].startswith("s2")}
    assert scratch_rows(database) == 0
    monkeypatch.setattr(cohort, "run_child_flow", original)
    result = resume_run(database, FixedClock(T0), run_id)
    assert result.status is RunStatus.COMPLETED
    assert end_state(database) == expected
