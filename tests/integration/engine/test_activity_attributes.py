"""Activity attributes built in SQL for a whole cohort (ACT-1, ACT-3): empty members are
left out, constants and per-row values are escaped, typed values stay typed."""

from __future__ import annotations

import json

from sqlalchemy import Integer, String, false, literal, select, true

from kampanj.engine.steps.base import attributes_document, json_bool, text_value
from kampanj.store.database import Database


def _document(database: Database, pairs: dict[str, object]) -> dict[str, object]:
    with database.read() as connection:
        built = {
            key: value(connection) if callable(value) else value for key, value in pairs.items()
        }
        text = connection.execute(select(attributes_document(connection, built))).scalar_one()
    return text if isinstance(text, dict) else json.loads(text)


def test_null_members_are_left_out(database: Database) -> None:
    document = _document(
        database,
        {
            "Campaign": text_value('Spring "Launch" – Nordics'),
            "New Value": literal(None, String),
            "Old Value": literal("before", String),
            "Score": literal(7, Integer),
            "Reason": text_value("a\\b\nc"),
        },
    )
    assert document == {
        "Campaign": 'Spring "Launch" – Nordics',
        "Old Value": "before",
        "Score": 7,
        "Reason": "a\\b\nc",
    }


def test_booleans_stay_booleans(database: Database) -> None:
    document = _document(
        database,
        {
            "Success": lambda connection: json_bool(connection, true()),
            "Acquired By": lambda connection: json_bool(connection, false()),
        },
    )
    assert document == {"Success": True, "Acquired By": False}


def test_every_member_empty_gives_an_empty_object(database: Database) -> None:
    assert _document(database, {"New Value": literal(None, String)}) == {}
    assert _document(database, {}) == {}
