"""Every operator and trap of SL-11..SL-18, in SQL on each backend and in memory.

Each case evaluates `condition_sql` over a typed literal (so no table is needed) and the
trigger matcher's in-memory `value_holds`; both must give the expected answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Boolean, Date, Float, String, cast, literal, select
from sqlalchemy.types import TypeEngine

from kampanj.smartlist.conditions import Moment, Shape, condition_sql
from kampanj.smartlist.folding import fold_case, fold_sql
from kampanj.smartlist.triggers import value_holds
from kampanj.store.database import Database
from kampanj.store.types import UtcDateTime

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday
MOMENT = Moment(now=NOW, zone=ZoneInfo("Europe/Stockholm"))
SQL_TYPES: dict[Shape, TypeEngine[Any]] = {
    Shape.TEXT: String(),
    Shape.NUMBER: Float(),
    Shape.BOOLEAN: Boolean(),
    Shape.DAY: Date(),
    Shape.INSTANT: UtcDateTime(),
}
T = Shape.TEXT
N = Shape.NUMBER
B = Shape.BOOLEAN
I = Shape.INSTANT  # noqa: E741
D = Shape.DAY

CASES: list[tuple[str, Shape, Any, str, tuple[Any, ...], bool]] = [
    # SL-12: case-insensitive text operators, empty matches the negatives
    ("SL-12", T, "Anna", "is", ("anna",), True),
    ("SL-11", T, "Bo", "is", ("x", "BO"), True),
    ("SL-11", T, "Bo", "is not", ("x", "bo"), False),
    ("SL-12", T, None, "is not", ("x",), True),
    ("SL-12", T, "", "not starts with", ("x",), True),
    ("SL-12", T, None, "not contains", ("x",), True),
    ("SL-12", T, "Pricing Page", "starts with", ("PRI",), True),
    ("SL-12", T, "Pricing Page", "not starts with", ("pri",), False),
    ("SL-12", T, "Pricing Page", "contains", ("g p",), True),
    ("SL-12", T, "50% off", "contains", ("0%",), True),
    ("SL-12", T, "500 off", "contains", ("0%",), False),  # % is literal, not a wildcard
    ("SL-12", T, "a_b", "starts with", ("a_",), True),
    ("SL-12", T, "axb", "starts with", ("a_",), False),
    ("SL-12", T, "", "is empty", (), True),
    ("SL-12", T, None, "is empty", (), True),
    ("SL-12", T, " ", "is not empty", (), True),
    ("SL-12", T, None, "is", ("x",), False),
    # SL-12 beyond ASCII: both backends fold Å, Ö, É, ẞ, Σ and İ the same way
    ("SL-12", T, "Åsa Öberg", "is", ("åsa öberg",), True),
    ("SL-12", T, "åsa", "is", ("ÅSA",), True),
    ("SL-12", T, "ÉCOLE", "starts with", ("éc",), True),
    ("SL-12", T, "Örebro", "not contains", ("ÖRE",), False),
    ("SL-12", T, "STRAẞE", "contains", ("ß",), True),
    ("SL-12", T, "ΟΔΟΣ", "is", ("οδοσ",), True),
    ("SL-12", T, "İstanbul", "starts with", ("ist",), True),
    ("SL-12", T, "Ängel", "is not", ("ängel", "x"), False),
    # SL-13: null counts as 0 for is / is not, never matches comparisons
    ("SL-13", N, None, "is", (0,), True),
    ("SL-13", N, None, "is not", (0,), False),
    ("SL-13", N, None, "is not", (5,), True),
    ("SL-13", N, 5, "between", (5, 10), True),
    ("SL-13", N, 10, "between", (10, 5), True),
    ("SL-13", N, None, "less than", (5,), False),
    ("SL-13", N, None, "at most", (5,), False),
    ("SL-13", N, 4.5, "less than", (5,), True),
    ("SL-13", N, 5, "greater than", (5,), False),
    ("SL-13", N, 5, "at least", (5,), True),
    ("SL-13", N, 0, "is empty", (), False),
    ("SL-13", N, 0, "is not empty", (), True),
    ("SL-13", N, None, "is empty", (), True),
    # SL-18: null matches neither boolean operator
    ("SL-18", B, True, "is true", (), True),
    ("SL-18", B, False, "is false", (), True),
    ("SL-18", B, None, "is true", (), False),
    ("SL-18", B, None, "is false", (), False),
    # SL-14: same calendar day in the account zone; between inclusive; after/before exclusive
    ("SL-14", I, datetime(2026, 11, 24, 23, 30, tzinfo=UTC), "is", ("2026-11-25",), True),
    ("SL-14", I, datetime(2026, 11, 24, 22, 59, tzinfo=UTC), "is", ("2026-11-25",), False),
    (
        "SL-14",
        I,
        datetime(2026, 11, 20, 10, tzinfo=UTC),
        "between",
        ("2026-11-20", "2026-11-21"),
        True,
    ),
    (
        "SL-14",
        I,
        datetime(2026, 11, 21, 22, 30, tzinfo=UTC),
        "between",
        ("2026-11-20", "2026-11-21"),
        True,
    ),
    (
        "SL-14",
        I,
        datetime(2026, 11, 21, 23, 30, tzinfo=UTC),
        "between",
        ("2026-11-20", "2026-11-21"),
        False,
    ),
    ("SL-14", D, date(2026, 11, 20), "after", ("2026-11-20",), False),
    ("SL-14", D, date(2026, 11, 20), "on or after", ("2026-11-20",), True),
    ("SL-14", D, date(2026, 11, 20), "before", ("2026-11-20",), False),
    ("SL-14", D, date(2026, 11, 20), "on or before", ("2026-11-20",), True),
    ("SL-14", I, datetime(2026, 11, 25, 11, 0, tzinfo=UTC), "in past", ("2 hours",), True),
    ("SL-14", I, datetime(2026, 11, 25, 9, 59, tzinfo=UTC), "in past", ("2 hours",), False),
    ("SL-14", I, datetime(2026, 11, 25, 13, 0, tzinfo=UTC), "in past", ("2 hours",), False),
    ("SL-14", I, datetime(2026, 11, 24, 9, 0, tzinfo=UTC), "in past before", ("1 day",), True),
    ("SL-14", I, datetime(2026, 11, 27, 0, 0, tzinfo=UTC), "in future", ("2 days",), True),
    ("SL-14", I, datetime(2026, 11, 28, 0, 0, tzinfo=UTC), "in future", ("2 days",), False),
    ("SL-14", I, datetime(2026, 11, 28, 0, 0, tzinfo=UTC), "in future after", ("2 days",), True),
    # SL-15: units — month = 30 days, year = 365 days, week = 7 days
    ("SL-15", I, datetime(2026, 10, 26, 12, 1, tzinfo=UTC), "in past", ("1 month",), True),
    ("SL-15", I, datetime(2026, 10, 26, 11, 59, tzinfo=UTC), "in past", ("1 month",), False),
    ("SL-15", I, datetime(2025, 11, 25, 12, 0, tzinfo=UTC), "in past", ("1 year",), True),
    ("SL-15", I, datetime(2026, 11, 18, 11, 0, tzinfo=UTC), "in past", ("1 week",), False),
    ("SL-15", I, datetime(2026, 11, 25, 11, 50, tzinfo=UTC), "in past", ("15 minutes",), True),
    # SL-16: empty dates match before, on or before, in past before, is not, is empty only
    ("SL-16", I, None, "before", ("2026-11-20",), True),
    ("SL-16", I, None, "on or before", ("2026-11-20",), True),
    ("SL-16", I, None, "in past before", ("3 days",), True),
    ("SL-16", I, None, "is not", ("2026-11-20",), True),
    ("SL-16", I, None, "is empty", (), True),
    ("SL-16", I, None, "after", ("2026-11-20",), False),
    ("SL-16", I, None, "on or after", ("2026-11-20",), False),
    ("SL-16", I, None, "is", ("2026-11-20",), False),
    ("SL-16", I, None, "between", ("2026-11-20", "2026-11-21"), False),
    ("SL-16", I, None, "in past", ("3 days",), False),
    ("SL-16", I, None, "in future", ("3 days",), False),
    ("SL-16", I, None, "in future after", ("3 days",), False),
    ("SL-16", I, None, "in time frame", ("this week",), False),
    ("SL-16", I, None, "is not empty", (), False),
    # SL-17: calendar periods in the account zone, weeks Monday–Sunday
    ("SL-17", I, datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "in time frame", ("this week",), True),
    (
        "SL-17",
        I,
        datetime(2026, 11, 22, 22, 30, tzinfo=UTC),
        "in time frame",
        ("this week",),
        False,
    ),
    ("SL-17", I, datetime(2026, 11, 22, 22, 30, tzinfo=UTC), "in time frame", ("last week",), True),
    ("SL-17", I, datetime(2026, 11, 24, 12, tzinfo=UTC), "in time frame", ("yesterday",), True),
    ("SL-17", I, datetime(2026, 11, 25, 22, 59, tzinfo=UTC), "in time frame", ("today",), True),
    (
        "SL-17",
        I,
        datetime(2026, 10, 31, 23, 30, tzinfo=UTC),
        "in time frame",
        ("this month",),
        True,
    ),
    (
        "SL-17",
        I,
        datetime(2026, 10, 31, 22, 30, tzinfo=UTC),
        "in time frame",
        ("last month",),
        True,
    ),
    ("SL-17", D, date(2026, 10, 1), "in time frame", ("this quarter",), True),
    ("SL-17", D, date(2026, 9, 30), "in time frame", ("last quarter",), True),
    ("SL-17", D, date(2026, 1, 1), "in time frame", ("this year",), True),
    ("SL-17", D, date(2025, 12, 31), "in time frame", ("last year",), True),
    ("SL-17", D, date(2026, 11, 25), "in past", ("1 day",), True),
    ("SL-16", D, None, "in past before", ("1 day",), True),
]

IDS = [f"{rule}-{op}-{value!r}-{values}" for rule, _, value, op, values, _ in CASES]


@pytest.mark.parametrize(
    ("rule", "shape", "value", "operator", "values", "expected"), CASES, ids=IDS
)
def test_operator_in_memory(
    rule: str, shape: Shape, value: Any, operator: str, values: tuple[Any, ...], expected: bool
) -> None:
    """The trigger matcher's twin gives the SL answer (rule id in the case)."""
    assert value_holds(value, shape, operator, values, MOMENT) is expected


def test_operators_in_sql(database: Database) -> None:
    """Every case above, as SQL on this backend; each predicate is never NULL."""
    wrong = []
    postgres = database.engine.dialect.name == "postgresql"
    with database.read() as connection:
        for rule, shape, value, operator, values, expected in CASES:
            operand: Any = literal(value, SQL_TYPES[shape])
            if postgres:  # a bare NULL parameter needs a type there
                operand = cast(operand, SQL_TYPES[shape])
            predicate = condition_sql(operand, shape, operator, values, MOMENT)
            got = connection.execute(select(predicate)).scalar()
            if got is None or bool(got) is not expected:
                wrong.append((rule, value, operator, values, got))
    assert wrong == []


def test_text_folding_matches_postgresql_lower(database: Database) -> None:
    """SL-12: folding in SQL equals `fold_case` for every cased character of the BMP.

    On PostgreSQL this checks the claim the compiler relies on — ``lower()`` under the
    server's locale is the per-character simple mapping; on SQLite it checks the function
    registered on the connection.
    """
    cased = "".join(
        chr(code)
        for code in range(0x80, 0x10000)
        if not 0xD800 <= code < 0xE000 and chr(code).lower() != chr(code)
    )
    with database.read() as connection:
        got = connection.execute(select(fold_sql(literal(cased, String())))).scalar_one()
    assert len(cased) > 1000
    assert got == fold_case(cased)
