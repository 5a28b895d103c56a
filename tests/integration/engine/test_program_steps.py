"""Change Program Status and Change Program Success on both databases (FLOW-20..22, ACT-4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from mailsupport import T0, activities, build, person, program_id, rows

from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.store import schema
from kampanj.store.database import Database

TODAY = date(2026, 3, 3)  # T0 in Pacific/Auckland (the UTC date is 2 March)
EARLIER = date(2026, 1, 5)


def _members(database: Database) -> dict[int, tuple[str, int, bool, date | None, bool]]:
    return {
        m["person_id"]: (
            m["status"],
            m["status_rank"],
            m["success"],
            m["success_date"],
            m["acquired_by"],
        )
        for m in rows(database, schema.program_member, schema.program_member.c.person_id)
    }


def _add_member(
    database: Database,
    person_id: int,
    status: str,
    rank: int,
    *,
    success: bool = False,
    success_date: date | None = None,
) -> None:
    with database.begin() as connection:
        connection.execute(
            sa.insert(schema.program_member).values(
                program_id=program_id(database),
                person_id=person_id,
                status=status,
                status_rank=rank,
                success=success,
                success_date=success_date,
                acquired_by=False,
                membership_date=T0,
                updated_at=T0,
            )
        )


def test_change_status_joins_moves_forward_and_skips_backwards(
    database: Database, tmp_path: Path
) -> None:
    """FLOW-20: a non-member joins with the status; equal or lower ranks are skipped
    (``backwards``, no change, no activity); FLOW-21: 104 with Old/New Status, success
    stamped today in the account time zone, acquisition on the first membership only."""
    flow = """\
              - Change Program Status: {program: Webinar A, newStatus: Invited}
              - Change Program Status: {program: Webinar A, newStatus: attended}
"""
    people = [{}, {}, {}, {"acquisition_program_id": 999}]
    build(database, tmp_path, flow, people)
    _add_member(database, 2, "Invited", 1)
    _add_member(database, 3, "Follow Up", 3, success=True, success_date=EARLIER)
    program = program_id(database)
    result = run_batch(database, FixedClock(T0), "C").result
    s1, s2 = result.steps["s1"], result.steps["s2"]
    assert (s1.executed, s1.skipped, dict(s1.skip_reasons)) == (2, 2, {"backwards": 2})
    assert (s2.executed, s2.skipped, dict(s2.skip_reasons)) == (3, 1, {"backwards": 1})
    assert _members(database) == {
        1: ("Attended", 2, True, TODAY, True),
        2: ("Attended", 2, True, TODAY, False),
        3: ("Follow Up", 3, True, EARLIER, False),
        4: ("Attended", 2, True, TODAY, False),
    }
    assert person(database, 1)["acquisition_program_id"] == program
    assert person(database, 2)["acquisition_program_id"] is None  # already a member
    assert person(database, 4)["acquisition_program_id"] == 999
    changes = activities(database, 104)
    assert [(a["person_id"], a["attributes"]["New Status"]) for a in changes] == [
        (1, "Invited"),
        (4, "Invited"),
        (1, "Attended"),
        (2, "Attended"),
        (4, "Attended"),
    ]
    first, moved = changes[0], changes[3]
    assert first["primary_attribute_value"] == "Webinar A"
    assert first["primary_attribute_value_id"] == program
    assert first["attributes"] == {
        "New Status": "Invited",
        "New Status ID": 1,
        "Success": False,
        "Acquired By": True,
        "Campaign": "C",
        "Reason": "C: Change Program Status",
        "Source": "Marketo Flow Action",
    }
    assert moved["attributes"]["Old Status"] == "Invited"
    assert moved["attributes"]["Old Status ID"] == 1
    assert moved["attributes"]["Success"] is True
    assert moved["attributes"]["Acquired By"] is False


def test_success_is_never_unset_by_later_status_changes(database: Database, tmp_path: Path) -> None:
    """FLOW-21: moving past the success status keeps Success and its first date."""
    flow = """\
              - Change Program Status: {program: Webinar A, newStatus: Attended}
              - Change Program Status: {program: Webinar A, newStatus: Follow Up}
"""
    build(database, tmp_path, flow, [{}, {}])
    _add_member(database, 2, "Attended", 2, success=True, success_date=EARLIER)
    run_batch(database, FixedClock(T0), "C")
    assert _members(database) == {
        1: ("Follow Up", 3, True, TODAY, True),
        2: ("Follow Up", 3, True, EARLIER, False),
    }
    assert [a["attributes"]["Success"] for a in activities(database, 104)] == [True, True, True]


def test_member_filter_sees_the_new_status(database: Database, tmp_path: Path) -> None:
    """FLOW-20 + SL-24: a later choice on Member of Program sees the status just written."""
    flow = """\
              - Change Program Status: {program: Webinar A, newStatus: Invited}
              - Interesting Moment:
                  type: Web
                  description: not invited
                  choices:
                    - if: {Member of Program: {is: Webinar A, Program Status: is Invited}}
                      description: invited
"""
    build(database, tmp_path, flow, [{}])
    run_batch(database, FixedClock(T0), "C")
    assert activities(database, 46)[0]["attributes"]["Description"] == "invited"


def test_change_success_members_only(database: Database, tmp_path: Path) -> None:
    """FLOW-22: members only (others skipped and counted); Success = true stamps today;
    Success Date sets the date and Success; Success = false clears the date; one 123 per
    changed attribute; the program defaults to this program."""
    flow = """\
              - Change Program Success: {attribute: Success, newValue: "true"}
              - Change Program Success: {attribute: Success, newValue: "yes"}
              - Change Program Success:
                  {program: Webinar A, attribute: Success Date, newValue: "2026-01-05"}
              - Change Program Success:
                  {program: this program, attribute: Success, newValue: "false"}
"""
    build(database, tmp_path, flow, [{}, {}])
    _add_member(database, 2, "Invited", 1)
    result = run_batch(database, FixedClock(T0), "C").result
    assert dict(result.steps["s1"].skip_reasons) == {"not a member": 1}
    assert (result.steps["s1"].executed, result.steps["s1"].skipped) == (1, 1)
    assert _members(database) == {2: ("Invited", 1, False, None, False)}
    changes = [
        (
            a["attributes"]["Attribute Name"],
            a["attributes"].get("Old Value"),
            a["attributes"].get("New Value"),
        )
        for a in activities(database, 123)
    ]
    assert changes == [
        ("Success", "false", "true"),
        ("Success Date", None, "2026-03-03"),
        # s2 changes nothing; s3 moves the date only
        ("Success Date", "2026-03-03", "2026-01-05"),
        ("Success", "true", "false"),
        ("Success Date", "2026-01-05", None),
    ]
    assert {a["person_id"] for a in activities(database, 123)} == {2}
    assert activities(database, 123)[0]["primary_attribute_value"] == "Webinar A"


def test_channel_gone_at_run_time_is_a_per_person_error(database: Database, tmp_path: Path) -> None:
    """FLOW-6: a status that stopped existing after the run started is a per-person error;
    nothing is written for the person and the flow goes on."""
    flow = """\
              - Interesting Moment: {type: Web, description: before}
              - Change Program Status: {program: Webinar A, newStatus: Invited}
              - Interesting Moment: {type: Web, description: after}
"""
    build(database, tmp_path, flow, [{}])

    def drop_channel(call_path: str, chunk: int) -> None:
        if call_path == "s1":
            with database.begin() as connection:
                connection.execute(
                    sa.update(schema.folder)
                    .where(schema.folder.c.name == "Webinar A")
                    .values(channel_id=None)
                )

    result = run_batch(database, FixedClock(T0), "C", on_chunk=drop_channel).result
    assert [(e["code"], e["personId"], e["stepId"]) for e in result.errors] == [
        ("INVALID_STATUS", 1, "s2")
    ]
    assert len(activities(database, 46)) == 2 and activities(database, 104) == []
    assert rows(database, schema.program_member) == []
