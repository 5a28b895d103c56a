"""Building small worlds for engine tests: definitions, people, and end-state snapshots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.engine.runs import MemberState
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table
from testsupport import ACCOUNT_YAML, write

runner = CliRunner()

WORLD = """\
workspace: Default
folders:
  - name: Scoring
    tokens:
      Bonus: {type: score, value: "+7"}
    lists:
      - name: Hot
      - name: Cold
    campaigns:
      - name: Nightly
        smartList:
          filters:
            - Lead Score: {at least: 0}
        flow:
          - Change Data Value:
              attribute: Title
              newValue: Lead
              choices:
                - {if: {Lead Score: {at least: 50}}, newValue: Hot Lead}
                - {if: {Country: is Narnia}, doNothing: true}
          - Change Score: {scoreName: Lead Score, change: "{{my.Bonus}}"}
          - Add to List: Hot
          - Remove from List: Cold
          - Interesting Moment: {type: Milestone, description: "Scored {{lead.Lead Score}}"}
          - Change Data Value: {attribute: City, newValue: "{{lead.Country}}"}
        schedule: {qualification: every time}
"""

PEOPLE = (
    "email,firstName,leadScore,country,title,city\n"
    "a@x.com,A,10,Sweden,,\n"
    "b@x.com,B,60,Narnia,Boss,\n"
    "c@x.com,C,55,Norway,,Oslo\n"
    "d@x.com,D,0,Narnia,,\n"
    "e@x.com,E,2147483645,,,\n"
    "f@x.com,F,-5,Chile,,\n"
    "g@x.com,G,70,Peru,,\n"
)


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def build(url: str, directory: Path, world: str = WORLD, people: str = PEOPLE) -> None:
    """Apply ``world`` (with the shared account) and import ``people``."""
    write(directory, "account.yaml", ACCOUNT_YAML)
    write(directory, "world.yaml", world)
    cli("apply", str(directory / "account.yaml"), "--db", url)
    cli("apply", str(directory / "world.yaml"), "--db", url)
    if people:
        cli("people", "import", str(write(directory, "people.csv", people)), "--db", url)


def end_state(database: Database) -> dict[str, Any]:
    """Person fields, list memberships and the flow activity log as a multiset (GEN-2)."""
    with database.read() as connection:
        person = person_table(load_field_registry(connection))
        people = {
            row["id"]: {k: v for k, v in row.items() if k not in ("updated_at", "created_at")}
            for row in connection.execute(sa.select(person)).mappings()
        }
        lists = sorted(
            (row.list_id, row.person_id)
            for row in connection.execute(sa.select(schema.list_member))
        )
        activity = schema.activity
        log = Counter(
            (
                row.person_id,
                row.activity_type_id,
                row.primary_attribute_value,
                repr(sorted(row.attributes.items())),
            )
            for row in connection.execute(
                sa.select(activity).where(activity.c.campaign_id.is_not(None))
            )
        )
    return {"people": people, "lists": lists, "activities": log}


def park(
    connection: sa.Connection,
    run_id: int,
    person_ids: Iterable[int],
    *,
    next_step: str,
    wake_at: datetime,
    entry_offset: int = 0,
) -> None:
    """``person_ids`` wait in ``run_id`` (chunk 0, entry id = ``entry_offset`` + person id)
    until ``wake_at``, then take ``next_step``: flow instances for a test to end or resume."""
    connection.execute(
        sa.insert(schema.run_member),
        [
            {
                "run_id": run_id,
                "person_id": p,
                "entry_id": entry_offset + p,
                "chunk": 0,
                "state": MemberState.WAITING.value,
                "next_step": next_step,
                "wake_at": wake_at,
            }
            for p in person_ids
        ],
    )
