"""Delete Person on both databases (FLOW-25, FLOW-3, FLOW-7, ACT-4)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from enginesupport import cli
from mailsupport import T0, activities, build, person, rows, waiting_in_other

from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import RunStatus
from kampanj.store import schema
from kampanj.store.database import Database
from testsupport import write

FLOW = """\
              - Add to List: Hot
              - Change Program Status: {program: Webinar A, newStatus: Invited}
              - Send Email: Hello
              - Delete Person:
                  doNothing: true
                  choices:
                    - if: {First Name: is Gone}
              - Interesting Moment: {type: Web, description: after}
"""


def _count(database: Database, table: sa.Table, person_id: int) -> int:
    with database.read() as connection:
        statement = (
            sa.select(sa.func.count()).select_from(table).where(table.c.person_id == person_id)
        )
        return int(connection.execute(statement).scalar_one())


def test_delete_person_removes_everything_and_ends_every_flow(
    database: Database, tmp_path: Path
) -> None:
    """FLOW-25: Delete Lead (37) stays; the person row, list / program / campaign
    memberships and other activities go; every flow instance ends (this run's and other
    runs'); FLOW-3: later steps of this run neither touch nor count them."""
    people = [{"first_name": "Gone"}, {"first_name": "Stays"}, {"first_name": "Gone"}]
    build(database, tmp_path, FLOW, people)
    other = waiting_in_other(database, 1, 2)
    result = run_batch(database, FixedClock(T0), "C", chunk_size=2).result
    assert result.status is RunStatus.COMPLETED
    s4, s5 = result.steps["s4"], result.steps["s5"]
    assert (s4.executed, dict(s4.skip_reasons)) == (2, {"do nothing": 1})
    assert (s5.executed, s5.skipped, dict(s5.skip_reasons)) == (1, 0, {})
    for gone in (1, 3):
        assert person(database, gone) is None
        for table in (schema.list_member, schema.program_member, schema.campaign_member):
            assert _count(database, table, gone) == 0
        [left] = [a for a in rows(database, schema.activity) if a["person_id"] == gone]
        assert left["activity_type_id"] == 37
        assert left["attributes"]["Reason"] == "C: Delete Person"
    assert person(database, 2) is not None
    assert _count(database, schema.program_member, 2) == 1
    assert _count(database, schema.campaign_member, 2) == 2
    assert [a["person_id"] for a in activities(database, 46)] == [2]
    assert [a["person_id"] for a in activities(database, 37)] == [1, 3]
    states = {
        (m["run_id"], m["person_id"]): (m["state"], m["wake_at"])
        for m in rows(database, schema.run_member)
    }
    assert states == {
        (result.run_id, 1): ("removed", None),
        (result.run_id, 2): ("completed", None),
        (result.run_id, 3): ("removed", None),
        (other, 1): ("removed", None),
        (other, 2): ("waiting", T0 + timedelta(days=1)),
    }
    # The outbox is the ledger of what was handed off: the email to person 1 stays.
    assert sorted(r["person_id"] for r in rows(database, schema.outbox)) == [1, 2, 3]


CHILD_WORLD = """\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: Parent
        smartList:
          filters:
            - Lead Score: {at least: 0}
        flow:
          - Execute Campaign: {campaign: Child}
          - Interesting Moment: {type: Web, description: parent after}
        schedule: {qualification: every time}
      - name: Child
        executable: true
        smartList:
          filters:
            - Lead Score: {at least: 0}
        flow:
          - Delete Person:
              doNothing: true
              choices:
                - if: {First Name: is Gone}
          - Interesting Moment: {type: Web, description: child after}
"""


def test_delete_person_inside_a_child_ends_the_whole_chain(
    database: Database, tmp_path: Path
) -> None:
    """FLOW-25 (the current chain included), EXE-18: deleted inside an executable child, the
    person takes no further child step and no further caller step."""
    build(database, tmp_path, "              - Delete Person: {}\n", [])
    cli("apply", str(write(tmp_path, "child.yaml", CHILD_WORLD)), "--db", database.url)
    cli(
        "people",
        "import",
        str(
            write(
                tmp_path, "people.csv", "email,firstName,leadScore\na@x.com,Gone,1\nb@x.com,Bo,1\n"
            )
        ),
        "--db",
        database.url,
    )
    result = run_batch(database, FixedClock(T0), "Parent").result
    assert result.status is RunStatus.COMPLETED
    # Gone from the chain, not skipped as 'person deleted' by the child's next step (FLOW-7).
    assert (result.steps["s1/s2"].executed, dict(result.steps["s1/s2"].skip_reasons)) == (1, {})
    moments = [(a["person_id"], a["attributes"]["Description"]) for a in activities(database, 46)]
    assert sorted(moments) == [(2, "child after"), (2, "parent after")]
    assert person(database, 1) is None
    assert [a["person_id"] for a in activities(database, 37)] == [1]
    assert {(m["person_id"], m["state"]) for m in rows(database, schema.run_member)} == {
        (1, "removed"),
        (2, "completed"),
    }
    assert rows(database, schema.call_member) == []
