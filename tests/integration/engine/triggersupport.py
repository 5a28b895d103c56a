"""Worlds and helpers for trigger, event and request tests (CMP-12..19, REQ-1..14)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from enginesupport import build

from kampanj.clock import FixedClock
from kampanj.engine.activation import activate
from kampanj.engine.events import record_event
from kampanj.store import schema
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
PEOPLE = "email,leadScore,country\n" + "".join(
    f"p{n}@x.com,{n * 10},{'Sweden' if n % 2 else 'Norway'}\n" for n in range(1, 7)
)


# One trigger campaign: a visit to a pricing page adds 5 to the score, every time.
PRICING_VISITORS = """\
      - name: Visitors
        smartList:
          triggers:
            - Visits Web Page: {Web Page: {contains: pricing}}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+5"}
        schedule: {qualification: every time}
"""


def world(campaigns: str, extra_lists: str = "") -> str:
    return f"""\
workspace: Default
folders:
  - name: F
    tokens:
      Greeting: {{type: text, value: Hello}}
    lists:
      - name: Hot
{extra_lists}    campaigns:
{campaigns}"""


def setup(database: Database, tmp_path: Path, campaigns: str, *active: str) -> None:
    build(database.url, tmp_path, world(campaigns), PEOPLE)
    for name in active:
        activate(database, CLOCK, name)


def activities(database: Database, **where: Any) -> list[Any]:
    table = schema.activity
    statement = sa.select(table).order_by(table.c.id)
    for key, value in where.items():
        statement = statement.where(table.c[key] == value)
    with database.read() as connection:
        return list(connection.execute(statement).mappings())


def runs(database: Database) -> list[Any]:
    with database.read() as connection:
        return list(connection.execute(sa.select(schema.run).order_by(schema.run.c.id)).mappings())


def person_ids(database: Database) -> list[int]:
    with database.read() as connection:
        return list(connection.execute(sa.text("select id from person order by id")).scalars())


def visit_unoffered(database: Database, person: int) -> None:
    """A pricing-page visit recorded as a producer beside a consumer records it: the
    dispatch is left to the consumer (``offer=False``)."""
    record_event(
        database, CLOCK, "Visit Webpage", person_id=person, primary="pricing.html", offer=False
    )
