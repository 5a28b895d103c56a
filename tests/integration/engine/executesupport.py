"""Helpers for Execute Campaign tests: worlds, activities per person, membership."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from enginesupport import build, cli

from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table
from testsupport import write

PEOPLE = "email,leadScore,title\na@x.com,10,\nb@x.com,3,\nc@x.com,12,\n"


def world(campaigns: str, *, tokens: str = "") -> str:
    """One folder ``F`` (lists Hot, Cold) holding ``campaigns`` (indented YAML items)."""
    return f"""\
workspace: Default
folders:
  - name: F
{tokens}    lists:
      - name: Hot
      - name: Cold
    campaigns:
{campaigns}"""


def build_forced(url: str, directory: Path, text: str, people: str = PEOPLE) -> None:
    """Like `build`, but the world is written with ``apply --force`` (VAL-3)."""
    build(url, directory, "workspace: Default\n", people)
    cli("apply", str(write(directory, "forced.yaml", text)), "--db", url, "--force")


def campaign_ids(database: Database) -> dict[str, int]:
    with database.read() as connection:
        rows = connection.execute(sa.select(schema.campaign.c.name, schema.campaign.c.id))
        return {row.name: row.id for row in rows}


def activities(database: Database, person_id: int | None = None) -> list[dict[str, Any]]:
    """Flow-written activities in id order, optionally of one person."""
    activity = schema.activity
    statement = sa.select(activity).where(activity.c.campaign_id.is_not(None))
    if person_id is not None:
        statement = statement.where(activity.c.person_id == person_id)
    with database.read() as connection:
        return [dict(r) for r in connection.execute(statement.order_by(activity.c.id)).mappings()]


def person(database: Database, person_id: int) -> dict[str, Any]:
    """The person's columns, custom fields also under their lower-cased display name."""
    with database.read() as connection:
        fields = load_field_registry(connection)
        table = person_table(fields)
        statement = sa.select(table).where(table.c.id == person_id)
        row = dict(connection.execute(statement).mappings().one())
    for field in fields:
        if field.column in row:
            row.setdefault(field.display_name.lower(), row[field.column])
    return row


def members(database: Database, campaign_id: int) -> set[int]:
    with database.read() as connection:
        statement = sa.select(schema.campaign_member.c.person_id).where(
            schema.campaign_member.c.campaign_id == campaign_id
        )
        return set(connection.execute(statement).scalars())


def scratch_rows(database: Database) -> int:
    with database.read() as connection:
        counted = sa.select(sa.func.count()).select_from(schema.call_member)
        return int(connection.execute(counted).scalar_one())
