"""Primary values of any length: the PostgreSQL value-index split stays exact (SL-22, SL-23).

On PostgreSQL a whole-database activity filter that tests only the primary value reads
it from the partial index ``ix_activity_type_date_value`` (values up to 2000 bytes) and
from ``ix_activity_value_long`` for longer ones (migration 0009). A 10 kB URL must still
insert, and every operator must see it exactly as it sees a short one, on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from kampanj.model.activities import StandardActivity
from kampanj.model.smartlists import Condition, Rule, SmartListRules
from kampanj.smartlist.compile_activities import VALUE_INDEX_BYTES
from kampanj.smartlist.compiler import compile_rules, members_query
from kampanj.store import schema
from kampanj.store.database import Database
from testsupport import compile_context

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
LONG_PLAIN = "https://example.com/" + "a" * 10_000
LONG_PRICING = "https://example.com/" + "b" * 5_000 + "/Pricing/" + "c" * 5_000
EDGE = "https://example.com/" + "d" * (VALUE_INDEX_BYTES - 27) + "pricing"  # 2000 bytes
# person id → primary values of their Visited Web Page activities (a day ago)
VISITS: dict[int, tuple[str | None, ...]] = {
    1: ("https://example.com/pricing",),
    2: (LONG_PRICING,),
    3: (LONG_PLAIN,),
    4: (None,),
    5: ("/PRICING", LONG_PRICING),
    6: (LONG_PRICING, LONG_PLAIN),
    7: (),
    8: (EDGE, EDGE + "x"),
}


def _visited(operator: str, *values: str, times: int | None = None, name: str = "") -> Rule:
    constraints = (
        (Condition(name="Min. Number of Times", operator="at least", values=(times,)),)
        if times
        else ()
    )
    return Rule(
        name=name or "Visited Web Page",
        primary=Condition(name="Web Page", operator=operator, values=values),
        constraints=constraints,
    )


def _members(database: Database, rule: Rule) -> set[int]:
    with database.read() as connection:
        ctx = compile_context(connection, NOW)
        compiled = compile_rules(SmartListRules(filters=(rule,)), ctx)
        assert compiled.valid, compiled.problems
        return set(connection.execute(members_query(compiled, ctx)).scalars())


@pytest.fixture
def visits(database: Database) -> Database:
    assert len(EDGE.encode()) == VALUE_INDEX_BYTES
    with database.begin() as connection:
        connection.execute(
            insert(schema.person),
            [
                {"id": pid, "email": f"p{pid}@example.com", "created_at": NOW, "updated_at": NOW}
                for pid in VISITS
            ],
        )
        connection.execute(
            insert(schema.activity),
            [
                {
                    "person_id": pid,
                    "activity_type_id": StandardActivity.VISIT_WEBPAGE.value,
                    "activity_date": NOW - timedelta(days=1),
                    "primary_attribute_value": value,
                    "attributes": {},
                }
                for pid, values in VISITS.items()
                for value in values
            ],
        )
    return database


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (_visited("contains", "pricing"), {1, 2, 5, 6, 8}),
        (_visited("not contains", "pricing"), {3, 4, 6}),
        (_visited("contains", "pricing", times=2), {5, 8}),
        (_visited("contains", "pricing", "aaaa", times=2), {5, 6, 8}),
        (_visited("starts with", "https://example.com/bbb"), {2, 5, 6}),
        (_visited("is", LONG_PLAIN.upper()), {3, 6}),
        (_visited("is not", LONG_PLAIN), {1, 2, 4, 5, 6, 8}),
        (_visited("is empty"), {4}),
        (_visited("is not empty"), {1, 2, 3, 5, 6, 8}),
        (_visited("contains", "pricing", name="Not Visited Web Page"), {3, 4, 7}),
    ],
)
def test_long_values_answer_like_short_ones(
    visits: Database, rule: Rule, expected: set[int]
) -> None:
    """SL-22/SL-23: a 10 kB URL inserts and is tested on its whole text; both backends."""
    assert _members(visits, rule) == expected


def test_postgresql_reads_the_value_from_the_partial_index(visits: Database) -> None:
    """The compiled statement implies the index predicate (constants inlined, not bound)."""
    if visits.dialect != "postgresql":
        pytest.skip("the partial value index exists on PostgreSQL only")
    with visits.read() as connection:
        ctx = compile_context(connection, NOW)
        rules = SmartListRules(filters=(_visited("contains", "pricing"),))
        statement = members_query(compile_rules(rules, ctx), ctx)
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.execute(text("SET LOCAL enable_bitmapscan = off"))
        compiled = statement.compile(connection)
        # Bound parameters as the driver sends them: only the size limit is inlined.
        cursor = connection.connection.cursor()
        cursor.execute(f"EXPLAIN {compiled}", compiled.params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_activity_type_date_value" in plan
    assert "ix_activity_value_long" in plan
