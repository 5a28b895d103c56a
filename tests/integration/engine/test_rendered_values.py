"""Person tokens rendered by SQL (set-based Change Data Value and Interesting Moment) follow
the same rules as rendering in Python: TOK-4 defaults, FLOW-13 blank and NULL, FLOW-14
over-long values failing per person, ACT-1 empty attributes left out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from enginesupport import build

from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

WORLD = """\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: C
        smartList:
          filters:
            - Lead Score: {{at least: 0}}
        flow:
{flow}
"""


def _people(database: Database, column: str) -> dict[int, Any]:
    with database.read() as connection:
        person = person_table(load_field_registry(connection))
        rows = connection.execute(sa.select(person.c.id, person.c[column]).order_by(person.c.id))
        return dict(rows.tuples().all())


def _activities(database: Database, type_id: int) -> list[tuple[int, dict[str, Any]]]:
    activity = schema.activity
    with database.read() as connection:
        rows = connection.execute(
            sa.select(activity.c.person_id, activity.c.attributes)
            .where(activity.c.activity_type_id == type_id)
            .order_by(activity.c.id)
        )
        return [(row.person_id, row.attributes) for row in rows]


def test_rendered_text_values(database: Database, tmp_path: Path) -> None:
    """FLOW-13: text rendering blank (Unicode spaces too) writes nothing and ``NULL`` clears;
    TOK-4: an empty value takes ``:default=``; FLOW-15: 13 only on change, and an empty old
    value is left out of the activity (ACT-1)."""
    flow = """\
          - Change Data Value: {attribute: City, newValue: "{{lead.Job Title}}"}
          - Change Data Value:
              attribute: State
              newValue: "{{lead.Company Name:default=Acme}} / {{lead.Lead Score}}"
"""
    people = (
        "email,company,city,state,leadScore\na@x.com,Nordic AB,Oslo,,5\nb@x.com,,Bergen,Old,7\n"
    )
    people += "c@x.com,Polar,Oslo,Polar / 0,0\nd@x.com,,,,1\n"
    build(database.url, tmp_path, WORLD.format(flow=flow), people)
    # a: a literal NULL clears the city; b: only Unicode spaces, the city stays;
    # c: the same value, no write and no 13; d: an empty title is blank.
    _set(database, "title", {1: "NULL", 2: "\u3000\u2003", 3: "Oslo", 4: ""})
    result = run_batch(database, FixedClock(T0), "C", chunk_size=3).result
    assert result.steps["s1"].executed == 4 and result.steps["s2"].executed == 4
    assert _people(database, "city") == {1: None, 2: "Bergen", 3: "Oslo", 4: None}
    assert _people(database, "state") == {
        1: "Nordic AB / 5",
        2: "Acme / 7",
        3: "Polar / 0",
        4: "Acme / 1",
    }
    assert _activities(database, 13) == [
        (1, {**_flow("Change Data Value"), "Attribute Name": "City", "Old Value": "Oslo"}),
        (
            1,
            {**_flow("Change Data Value"), "Attribute Name": "State", "New Value": "Nordic AB / 5"},
        ),
        (
            2,
            {
                **_flow("Change Data Value"),
                "Attribute Name": "State",
                "Old Value": "Old",
                "New Value": "Acme / 7",
            },
        ),
        (4, {**_flow("Change Data Value"), "Attribute Name": "State", "New Value": "Acme / 1"}),
    ]


def test_rendered_value_too_long_fails_per_person(database: Database, tmp_path: Path) -> None:
    """FLOW-14, FLOW-6: a rendered string over 255 characters is an error for that person
    only, with the length in the message; the others are written. A description that
    renders empty is left out (ACT-1)."""
    flow = """\
          - Change Data Value:
              {attribute: Job Title, newValue: "{{lead.Company Name}}{{lead.Company Name}}"}
          - Interesting Moment: {type: Web, description: "{{lead.Job Title}}!"}
          - Interesting Moment: {type: Web, description: "{{lead.Job Title}}"}
"""
    people = f"email,company,leadScore\na@x.com,{'x' * 200},1\nb@x.com,short,2\n"
    build(database.url, tmp_path, WORLD.format(flow=flow), people)
    result = run_batch(database, FixedClock(T0), "C").result
    assert [(e["code"], e["personId"], e["stepId"]) for e in result.errors] == [
        ("INVALID_VALUE", 1, "s1")
    ]
    assert "400 characters" in result.errors[0]["message"]
    assert (result.steps["s1"].executed, result.steps["s1"].errors) == (1, 1)
    assert _people(database, "title") == {1: None, 2: "shortshort"}
    moments = [(p, a.get("Description")) for p, a in _activities(database, 46)]
    # ACT-1: an empty description is left out of the activity.
    assert moments == [(1, "!"), (2, "shortshort!"), (1, None), (2, "shortshort")]


def _set(database: Database, column: str, values: dict[int, Any]) -> None:
    with database.begin() as connection:
        person = person_table(load_field_registry(connection))
        for person_id, value in values.items():
            connection.execute(
                sa.update(person).where(person.c.id == person_id).values({column: value})
            )


def _flow(step: str) -> dict[str, str]:
    return {"Campaign": "C", "Reason": f"C: {step}", "Source": "Marketo Flow Action"}
