"""A program world for the program, email, alert and delete steps: definitions and people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from enginesupport import cli, park

from kampanj.engine.runs import RunKind, create_run
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table
from testsupport import write

T0 = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)  # Tuesday 00:30 on 3 March in Auckland

ACCOUNT = """\
settings:
  timezone: Pacific/Auckland
{settings}
channels:
  - name: Event
    statuses: [Not in Program, Invited, {{name: Attended, success: true}}, Follow Up]
"""

WORLD = """\
workspace: Default
folders:
  - name: F
    lists:
      - name: Hot
    programs:
      - name: Webinar A
        channel: Event
        emails:
          - name: Hello
            subject: "Hi {{{{lead.First Name}}}} & co"
            fromName: Acme
            fromEmail: hello@acme.example
            replyTo: reply@acme.example
            html: "<p>Hello {{{{lead.First Name}}}}</p>"
            text: "Hello {{{{lead.First Name}}}}"
          - {{name: Ops, subject: Receipt, operational: true}}
          - name: Alert
            subject: "Alert about {{{{lead.Email Address}}}}"
            html: "<pre>{{{{sp_send_alert_info}}}}</pre>"
            text: "{{{{sp_send_alert_info}}}}"
        campaigns:
          - name: C
            smartList:
              filters:
                - Lead Score: {{at least: 0}}
            flow:
{flow}
            schedule: {{qualification: every time{schedule}}}
          - name: Other
            smartList:
              filters:
                - Lead Score: {{at least: 0}}
            flow:
              - Interesting Moment: {{type: Web, description: other}}
"""


def build(
    database: Database,
    directory: Path,
    flow: str,
    people: list[dict[str, Any]],
    *,
    settings: str = "",
    schedule: str = "",
) -> None:
    """Apply the account and the world with ``flow`` (YAML, indented 14) and insert people."""
    account = write(directory, "account.yaml", ACCOUNT.format(settings=settings))
    world = write(directory, "world.yaml", WORLD.format(flow=flow, schedule=schedule))
    cli("apply", str(account), "--db", database.url)
    cli("apply", str(world), "--db", database.url)
    with database.begin() as connection:
        person = person_table(load_field_registry(connection))
        for number, values in enumerate(people, start=1):
            row = {"id": number, "lead_score": 0, "created_at": T0, "updated_at": T0}
            row.setdefault("email", f"p{number}@x.com")
            row.update(values)
            connection.execute(sa.insert(person).values(row))


def program_id(database: Database, name: str = "Webinar A") -> int:
    with database.read() as connection:
        statement = sa.select(schema.folder.c.id).where(schema.folder.c.name == name)
        return int(connection.execute(statement).scalar_one())


def email_id(database: Database, name: str) -> int:
    with database.read() as connection:
        statement = sa.select(schema.email.c.id).where(schema.email.c.name == name)
        return int(connection.execute(statement).scalar_one())


def activities(database: Database, type_id: int) -> list[Any]:
    with database.read() as connection:
        return list(
            connection.execute(
                sa.select(schema.activity)
                .where(schema.activity.c.activity_type_id == type_id)
                .order_by(schema.activity.c.id)
            ).mappings()
        )


def rows(database: Database, table: sa.Table, *order: Any) -> list[Any]:
    with database.read() as connection:
        return list(connection.execute(sa.select(table).order_by(*order)).mappings())


def person(database: Database, person_id: int) -> Any:
    with database.read() as connection:
        table = person_table(load_field_registry(connection))
        statement = sa.select(table).where(table.c.id == person_id)
        return connection.execute(statement).mappings().first()


def waiting_in_other(database: Database, *person_ids: int) -> int:
    """A run of the world's campaign Other in which ``person_ids`` wait a day; its id."""
    with database.begin() as connection:
        other = connection.execute(
            sa.select(schema.campaign.c.id).where(schema.campaign.c.name == "Other")
        ).scalar_one()
        run_id = create_run(connection, campaign_id=other, kind=RunKind.BATCH, now=T0, overrides={})
        park(connection, run_id, person_ids, next_step="s1", wake_at=T0 + timedelta(days=1))
        connection.execute(
            sa.insert(schema.campaign_member),
            [
                {"campaign_id": other, "person_id": p, "created_at": T0, "updated_at": T0}
                for p in person_ids
            ],
        )
    return run_id
