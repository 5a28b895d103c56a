"""Static lists through the Lead Database API (API-38, API-39, WS-5)."""

from __future__ import annotations

from typing import Any

from apisupport import Api, error_code
from sqlalchemy import select

from kampanj.api.users import Role
from kampanj.store.schema import activity


def _people(api: Api, count: int) -> list[int]:
    body = api.post(
        "/rest/v1/leads.json", {"input": [{"email": f"p{i}@example.com"} for i in range(count)]}
    )
    return [item["id"] for item in body["result"]]


def _list_activities(api: Api) -> list[Any]:
    with api.database.read() as connection:
        return list(
            connection.execute(
                select(activity)
                .where(activity.c.activity_type_id.in_([24, 25]))
                .order_by(activity.c.id)
            )
        )


def test_get_lists_filters_and_scope(api: Api) -> None:
    """API-38: records with programName and workspaceName; WS-5 hides other workspaces."""
    body = api.get("/rest/v1/lists.json")
    by_name = {item["name"]: item for item in body["result"]}
    assert by_name["Attendees"]["programName"] == "Events"
    assert by_name["Attendees"]["workspaceName"] == "Default"
    assert by_name["EMEA Leads"]["programName"] is None
    assert body["moreResult"] is False and "nextPageToken" not in body
    emea = api.get("/rest/v1/lists.json", workspaceName="emea")["result"]
    assert [item["name"] for item in emea] == ["EMEA Leads"]
    scoped = api.token("emea", Role.READ_ONLY, ("EMEA",))
    assert [i["name"] for i in api.get("/rest/v1/lists.json", token=scoped)["result"]] == [
        "EMEA Leads"
    ]
    attendees = api.ids("list")["Attendees"]
    assert error_code(api.get(f"/rest/v1/lists/{attendees}.json", token=scoped)) == "603"
    one = api.get(f"/rest/v1/lists/{attendees}.json")["result"]
    assert one[0]["id"] == attendees
    assert error_code(api.get("/rest/v1/lists/999.json")) == "1013"


def test_paging_lists(api: Api) -> None:
    """API-7: nextPageToken present iff more remain."""
    first = api.get("/rest/v1/lists.json", batchSize=1)
    assert first["moreResult"] is True
    second = api.get("/rest/v1/lists.json", batchSize=1, nextPageToken=first["nextPageToken"])
    assert second["result"][0]["id"] > first["result"][0]["id"]
    assert "nextPageToken" not in second


def test_add_remove_and_membership(api: Api) -> None:
    """API-39: added / removed / skipped 1004 and 1015; 24/25 only on actual change."""
    ann, bo = _people(api, 2)
    list_id = api.ids("list")["Attendees"]
    path = f"/rest/v1/lists/{list_id}/leads.json"
    added = api.post(path, {"input": [{"id": ann}, {"id": 999}]})
    assert added["result"][0] == {"id": ann, "status": "added"}
    assert added["result"][1]["reasons"][0]["code"] == "1004"
    again = api.post(path, None, id=[ann, bo])  # ?id=…&id=…; ann already a member
    assert [item["status"] for item in again["result"]] == ["added", "added"]
    assert [(a.person_id, a.activity_type_id) for a in _list_activities(api)] == [
        (ann, 24),
        (bo, 24),
    ]
    assert _list_activities(api)[0].attributes == {"Source": "Web Service API"}
    members = api.get(path, fields="email")
    assert [m["email"] for m in members["result"]] == ["p0@example.com", "p1@example.com"]
    check = api.get(f"/rest/v1/lists/{list_id}/leads/ismember.json", id=[ann, 999])
    assert check["result"][0] == {"id": ann, "status": "memberof"}
    assert check["result"][1]["reasons"][0]["code"] == "1004"
    headers = {"Authorization": f"Bearer {api.token()}"}
    removed = api.client.request(
        "DELETE", path, json={"input": [{"id": ann}, {"id": ann}]}, headers=headers
    ).json()
    assert removed["result"][0] == {"id": ann, "status": "removed"}
    assert removed["result"][1]["reasons"][0]["code"] == "1015"
    assert [a.activity_type_id for a in _list_activities(api)] == [24, 24, 25]
    status = api.get(f"/rest/v1/lists/{list_id}/leads/ismember.json", id=ann)["result"]
    assert status == [{"id": ann, "status": "notmemberof"}]


def test_list_write_errors(api: Api) -> None:
    """API-39: unknown list → 1013; over 300 ids → 1003; read-only users → 603."""
    assert error_code(api.post("/rest/v1/lists/999/leads.json", {"input": [{"id": 1}]})) == "1013"
    list_id = api.ids("list")["Attendees"]
    many = {"input": [{"id": i} for i in range(301)]}
    assert error_code(api.post(f"/rest/v1/lists/{list_id}/leads.json", many)) == "1003"
    reader = api.token("reader", Role.READ_ONLY)
    body = api.post(f"/rest/v1/lists/{list_id}/leads.json", {"input": [{"id": 1}]}, token=reader)
    assert error_code(body) == "603"
