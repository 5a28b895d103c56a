"""Program member status (API-33, FLOW-20, FLOW-21)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apisupport import Api, error_code
from sqlalchemy import select

from kampanj.api.users import Role
from kampanj.services.apply import apply_paths
from kampanj.store.schema import activity, person, program_member

WEBINARS = """\
workspace: Default
channels:
  - name: Webinar
    statuses: [Invited, Registered, {name: Attended, success: true}]
folders:
  - name: Marketing
    programs:
      - name: Webinar 1
        channel: Webinar
"""
NEW = "/rest/v1/programs/{}/members/status.json"
LEGACY = "/rest/v1/leads/programs/{}/status.json"


def _setup(api: Api, tmp_path: Path) -> tuple[int, list[int]]:
    path = tmp_path / "webinars.yaml"
    path.write_text(WEBINARS, encoding="utf-8")
    apply_paths(api.database, [path], clock=api.clock)
    leads = api.post(
        "/rest/v1/leads.json", {"input": [{"email": f"p{n}@example.com"} for n in range(3)]}
    )["result"]
    return api.ids("folder")["Webinar 1"], [lead["id"] for lead in leads]


def _members(api: Api, program: int) -> dict[int, tuple[str, bool, bool]]:
    with api.database.read() as connection:
        rows = connection.execute(
            select(program_member).where(program_member.c.program_id == program)
        )
        return {r.person_id: (r.status, r.success, r.acquired_by) for r in rows}


def _status_changes(api: Api) -> list[Any]:
    with api.database.read() as connection:
        return list(
            connection.execute(
                select(activity).where(activity.c.activity_type_id == 104).order_by(activity.c.id)
            )
        )


def test_members_join_and_move_forward_only(api: Api, tmp_path: Path) -> None:
    """API-33: non-members join, members move forward; 1037 at or past; 1004 unknown."""
    program, (a, b, c) = _setup(api, tmp_path)
    body = api.post(
        NEW.format(program),
        {"statusName": "registered", "input": [{"leadId": a}, {"leadId": b}, {"leadId": 999}]},
    )
    assert [item["status"] for item in body["result"]] == ["updated", "updated", "skipped"]
    assert body["result"][2]["reasons"][0]["code"] == "1004"
    assert _members(api, program) == {
        a: ("Registered", False, True),
        b: ("Registered", False, True),
    }
    again = api.post(
        NEW.format(program),
        {"statusName": "Invited", "input": [{"leadId": a}, {"leadId": c}, {"leadId": c}]},
    )["result"]
    assert again[0]["reasons"][0]["code"] == "1037"  # Invited is behind Registered
    assert again[1] == {"id": c, "status": "updated"}
    assert again[2]["reasons"][0]["code"] == "1037"  # listed twice: moved once
    attended = api.post(NEW.format(program), {"statusName": "Attended", "input": [{"leadId": a}]})
    assert attended["result"] == [{"id": a, "status": "updated"}]
    assert _members(api, program)[a] == ("Attended", True, True)
    changes = [(r.person_id, r.attributes) for r in _status_changes(api)]
    assert [person_id for person_id, _ in changes] == [a, b, c, a]
    first, last = changes[0][1], changes[-1][1]
    assert first["New Status"] == "Registered" and "Old Status" not in first
    assert first["Source"] == "Web Service API" and first["Acquired By"] is True
    assert last["Old Status"] == "Registered" and last["New Status ID"] == 2
    assert last["Success"] is True
    with api.database.read() as connection:
        acquired = connection.execute(
            select(person.c.acquisition_program_id).where(person.c.id == a)
        ).scalar()
    assert acquired == program


def test_legacy_endpoint_moves_members_only(api: Api, tmp_path: Path) -> None:
    """API-33 legacy: ``status`` and ``input[].id``; a non-member is skipped with 1004."""
    program, (a, b, _) = _setup(api, tmp_path)
    api.post(NEW.format(program), {"statusName": "Invited", "input": [{"leadId": a}]})
    body = api.post(
        LEGACY.format(program), {"status": "Registered", "input": [{"id": a}, {"id": b}]}
    )
    assert body["result"][0] == {"id": a, "status": "updated"}
    assert body["result"][1]["status"] == "skipped"
    assert body["result"][1]["reasons"][0]["code"] == "1004"
    assert set(_members(api, program)) == {a}


def test_program_status_errors(api: Api, tmp_path: Path) -> None:
    """1025 unknown status, 1013 unknown program (or a plain folder), 701, 1003, 603."""
    program, (a, _, _) = _setup(api, tmp_path)
    one = {"statusName": "Registered", "input": [{"leadId": a}]}
    assert error_code(api.post(NEW.format(program), {**one, "statusName": "Nope"})) == "1025"
    assert error_code(api.post(NEW.format(999), one)) == "1013"
    folder = api.ids("folder")["Marketing"]
    assert error_code(api.post(NEW.format(folder), one)) == "1013"
    assert error_code(api.post(NEW.format(program), {"input": [{"leadId": a}]})) == "701"
    assert error_code(api.post(NEW.format(program), {"statusName": "Registered"})) == "701"
    many = {"statusName": "Registered", "input": [{"leadId": a}] * 301}
    assert error_code(api.post(NEW.format(program), many)) == "1003"
    emea = api.token("emea-writer", Role.READ_WRITE, ("EMEA",))
    assert error_code(api.post(NEW.format(program), one, token=emea)) == "603"
    reader = api.token("reader", Role.READ_ONLY)
    assert error_code(api.post(NEW.format(program), one, token=reader)) == "603"
    assert _members(api, program) == {}
    assert _status_changes(api) == []
