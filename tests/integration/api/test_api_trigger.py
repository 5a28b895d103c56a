"""POST /rest/v1/campaigns/{id}/trigger.json: Request Campaign (API-16..18, REQ-4, TOK-17)."""

from __future__ import annotations

from apisupport import Api, error_code
from sqlalchemy import select

from kampanj.api.users import Role
from kampanj.store.schema import activity, run


def test_request_with_duplicates_unknown_leads_and_ignored_tokens(api: Api) -> None:
    """API-18: one requested run; warnings 1036 / 1004 / 1003; 47 per known lead."""
    people = api.post(
        "/rest/v1/leads.json", {"input": [{"email": "a@example.com"}, {"email": "b@example.com"}]}
    )["result"]
    a, b = (p["id"] for p in people)
    register = api.ids("campaign")["Register"]
    body = api.post(
        f"/rest/v1/campaigns/{register}/trigger.json",
        {
            "input": {
                "leads": [{"id": a}, {"id": b}, {"id": a}, {"id": 999}],
                "tokens": [{"name": "{{my.Nope}}", "value": "x"}],
            }
        },
    )
    assert body["success"] is True
    (item,) = body["result"]
    assert item["id"] == register and isinstance(item["runId"], int)
    assert sorted(w["code"] for w in body["warnings"]) == [1003, 1004, 1036]
    with api.database.read() as connection:
        requests = connection.execute(
            select(activity.c.person_id, activity.c.attributes)
            .where(activity.c.activity_type_id == 47)
            .order_by(activity.c.id)
        ).all()
    assert [r.person_id for r in requests] == [a, b]
    assert requests[0].attributes["Source"] == "Web Service API"


def test_request_refusals(api: Api) -> None:
    """API-17 order: 1013 unknown, 1003 not requestable, 701 no leads, 1003 over 100 leads or
    tokens or malformed tokens; 603 role."""
    ids = api.ids("campaign")
    path = "/rest/v1/campaigns/{}/trigger.json"
    one = {"input": {"leads": [{"id": 1}]}}
    assert error_code(api.post(path.format(999), one)) == "1013"
    assert error_code(api.post(path.format(ids["Nightly"]), one)) == "1003"
    assert error_code(api.post(path.format(ids["Register"]), {"input": {"leads": []}})) == "701"
    many = {"input": {"leads": [{"id": i} for i in range(1, 102)]}}
    assert error_code(api.post(path.format(ids["Register"]), many)) == "1003"
    tokens = [{"name": "{{my.Points}}", "value": "+1"}] * 101
    over = {"input": {"leads": [{"id": 1}], "tokens": tokens}}
    assert error_code(api.post(path.format(ids["Register"]), over)) == "1003"
    assert error_code(api.post(path.format(999), over)) == "1013"  # the campaign comes first
    malformed = {"input": {"leads": [{"id": 1}], "tokens": {"name": "x"}}}
    assert error_code(api.post(path.format(ids["Register"]), malformed)) == "1003"
    writer = api.token("writer", Role.READ_WRITE)
    assert error_code(api.post(path.format(ids["Register"]), one, token=writer)) == "603"


def test_read_only_and_other_workspace_users_cannot_request(api: Api) -> None:
    """API-8 / WS-5: a read-only user requesting a campaign → 603; a user scoped to EMEA
    requesting a Default campaign → 603; nothing is written either way."""
    (lead,) = api.post("/rest/v1/leads.json", {"input": [{"email": "a@example.com"}]})["result"]
    register = api.ids("campaign")["Register"]
    path = f"/rest/v1/campaigns/{register}/trigger.json"
    one = {"input": {"leads": [{"id": lead["id"]}]}}
    reader = api.token("reader", Role.READ_ONLY)
    assert error_code(api.post(path, one, token=reader)) == "603"
    emea = api.token("emea", Role.EXECUTE_CAMPAIGN, ("EMEA",))
    assert error_code(api.post(path, one, token=emea)) == "603"
    with api.database.read() as connection:
        requests = connection.execute(
            select(activity.c.id).where(activity.c.activity_type_id == 47)
        ).all()
        runs = connection.execute(select(run.c.id)).all()
    assert requests == [] and runs == []
