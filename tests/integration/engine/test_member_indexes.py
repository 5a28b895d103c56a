"""The engine's lookups of run members by person or by wake time use the partial indexes of
migration 0013 on both databases: no statement that carries an index's condition scans
``run_member`` whole (WAIT-10, FLOW-18, FLOW-25; handoff's ORD-3 check)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from mailsupport import T0, build, waiting_in_other

from kampanj.clock import FixedClock
from kampanj.engine import handoff, waits
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import MemberState, RunStatus
from kampanj.store.database import Database
from kampanj.store.schema import RUN_MEMBER_LIVE, RUN_MEMBER_WAITING

FLOW = """\
              - Remove from Flow: {campaigns: [Other]}
              - Delete Person: {}
"""


def _literals(condition: sa.ColumnElement[bool]) -> str:
    return str(condition.compile(compile_kwargs={"literal_binds": True}))


def test_index_conditions_name_the_member_states() -> None:
    """The schema spells the states as literals (store does not import the engine)."""
    assert _literals(RUN_MEMBER_WAITING) == f"run_member.state = '{MemberState.WAITING}'"
    assert _literals(RUN_MEMBER_LIVE) == (
        f"run_member.state IN ('{MemberState.ACTIVE}', '{MemberState.WAITING}')"
    )


@contextmanager
def _statements_with_index_conditions(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent while inside that carries a partial index's condition (the
    literal 'waiting' appears nowhere else in the engine's SQL)."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "run_member" in statement and "'waiting'" in statement:
            seen.append((statement, parameters))

    sa.event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", record)


def _scans_run_member(database: Database, statement: str, parameters: Any) -> bool:
    """Whether the plan reads all of ``run_member``. PostgreSQL is told to avoid sequential
    scans, so it shows one only where no index applies (its tables here are tiny)."""
    with database.begin() as connection:
        if database.dialect == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars()
            text = "\n".join(plan)
            return "Seq Scan on run_member" in text
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        details = [row[-1] for row in rows]
        return any(detail.startswith("SCAN run_member") for detail in details)


def test_member_lookups_use_the_partial_indexes(database: Database, tmp_path: Path) -> None:
    build(database, tmp_path, FLOW, [{"first_name": "A"}, {"first_name": "B"}])
    waiting_in_other(database, 1, 2)
    with _statements_with_index_conditions(database) as seen:
        result = run_batch(database, FixedClock(T0), "C").result
        with database.read() as connection:
            waits.earliest_due(connection, T0 + timedelta(days=2))
            handoff._busy(connection, [1, 2])
    assert result.status is RunStatus.COMPLETED
    # Remove from Flow (its 903 source and its update), Delete Person, the due Waits and
    # the handoff's busy check: a query that lost its condition would be missing here.
    assert len(seen) == 5, [statement for statement, _ in seen]
    scanning = [s for s, p in seen if _scans_run_member(database, s, p)]
    assert scanning == []
