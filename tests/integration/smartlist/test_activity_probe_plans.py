"""Correlated per-person activity counts read the person's own activities (SQLite plans).

"Opened Email at least 2 times in the past 60 days" is compiled on SQLite as a count per
person, correlated on ``person.id``. It is fast only through
``ix_activity_person_type_date``: given an index without the date, SQLite's planner
preferred the (type, date) covering index and scanned the whole 60-day window once per
person (a count over 100,000 people took 186 s instead of 0.06 s). This checks the plans
of the whole-database count and of the single-person check a trigger runs, without
statistics (kampanj never runs ``ANALYZE`` on SQLite; that is where the bad plan showed)
and with them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select

from kampanj.model.activities import StandardActivity
from kampanj.model.smartlists import Condition, FilterMatchType, Rule, SmartListRules
from kampanj.smartlist.compiler import compile_rules, count_query
from kampanj.smartlist.context import CompileContext, Placement
from kampanj.store import schema
from kampanj.store.database import Database
from testsupport import compile_context

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
PEOPLE = 2_000
ACTIVITIES_PER_PERSON = 12
PERSON_INDEX = "ix_activity_person_type_date"

RULES = SmartListRules(
    filters=(
        Rule(name="Lead Score", operator="at least", values=(50,)),
        Rule(
            name="Opened Email",
            constraints=(
                Condition(name="Date of Activity", operator="in past", values=("60 days",)),
                Condition(name="Min. Number of Times", operator="at least", values=(2,)),
            ),
        ),
    ),
    match_type=FilterMatchType.ALL,
)
TYPES = (StandardActivity.VISIT_WEBPAGE, StandardActivity.OPEN_EMAIL, StandardActivity.SEND_EMAIL)


@pytest.fixture(params=["without statistics", "analysed"])
def analysed(database: Database, request: pytest.FixtureRequest) -> Database:
    if database.dialect != "sqlite":
        pytest.skip("SQLite plans without statistics by default; PostgreSQL analyses on its own")
    with database.begin() as connection:
        connection.execute(
            insert(schema.person),
            [
                {
                    "id": pid,
                    "email": f"p{pid}@example.com",
                    "lead_score": pid % 100,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for pid in range(1, PEOPLE + 1)
            ],
        )
        connection.execute(
            insert(schema.activity),
            [
                {
                    "person_id": pid,
                    "activity_type_id": TYPES[n % len(TYPES)].value,
                    "activity_date": NOW - timedelta(hours=(pid * 7 + n * 331) % (180 * 24)),
                    "primary_attribute_value": "Mailing",
                    "attributes": {},
                }
                for pid in range(1, PEOPLE + 1)
                for n in range(ACTIVITIES_PER_PERSON)
            ],
        )
        if request.param == "analysed":
            connection.exec_driver_sql("ANALYZE")
    return database


def _plan(database: Database, statement: Any, parameters: dict[str, Any]) -> list[str]:
    with database.read() as connection:
        compiled = statement.compile(connection)
        sql = str(compiled)
        values = {**compiled.params, **parameters}
        positional = [values[name] for name in compiled.positiontup or []]
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(positional))
        return [row[-1] for row in rows]


def _context(database: Database, placement: Placement) -> CompileContext:
    with database.read() as connection:
        return compile_context(connection, NOW).at(placement)


def _activity_reads(plan: list[str]) -> list[str]:
    return [step for step in plan if " activity " in f"{step} "]


def test_whole_database_count_probes_each_persons_activities(analysed: Database) -> None:
    ctx = _context(analysed, Placement.SET)
    compiled = compile_rules(RULES, ctx)
    assert compiled.valid, compiled.problems
    reads = _activity_reads(_plan(analysed, count_query(compiled, ctx), {}))
    assert reads and all(PERSON_INDEX in step for step in reads), reads


def test_single_person_check_probes_that_persons_activities(analysed: Database) -> None:
    ctx = _context(analysed, Placement.PERSON)
    compiled = compile_rules(RULES, ctx)
    assert compiled.valid, compiled.problems
    statement = select(compiled.predicate).where(ctx.person.c.id == bindparam("person_id"))
    reads = _activity_reads(_plan(analysed, statement, {"person_id": 7}))
    assert reads and all(PERSON_INDEX in step for step in reads), reads
