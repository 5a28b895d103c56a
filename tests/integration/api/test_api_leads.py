"""Leads: upsert, query, get, describe, delete, campaign membership (API-28..32, ACT-7)."""

from __future__ import annotations

from typing import Any

from apisupport import Api, error_code
from sqlalchemy import select

from kampanj.store.schema import activity

LEADS = "/rest/v1/leads.json"


def _activities(api: Api, type_id: int) -> list[Any]:
    with api.database.read() as connection:
        return list(
            connection.execute(
                select(activity)
                .where(activity.c.activity_type_id == type_id)
                .order_by(activity.c.id)
            )
        )


def test_upsert_creates_then_updates_in_input_order(api: Api) -> None:
    """API-28: createOrUpdate by email; items {id, status}; ACT-7 activities with API source."""
    body = api.post(
        LEADS,
        {"input": [{"email": "ann@example.com", "firstName": "Ann"}, {"email": "bo@example.com"}]},
    )
    assert body["success"] is True
    first, second = body["result"]
    assert first["status"] == second["status"] == "created"
    assert second["id"] > first["id"]
    again = api.post(LEADS, {"input": [{"email": "ANN@example.com", "firstName": "Anna"}]})
    assert again["result"] == [{"id": first["id"], "status": "updated"}]
    new_leads = _activities(api, 12)
    assert [a.attributes["Source Type"] for a in new_leads] == ["Web Service API"] * 2
    (change,) = _activities(api, 13)
    assert change.person_id == first["id"]
    assert change.attributes["Old Value"] == "Ann" and change.attributes["New Value"] == "Anna"
    assert change.attributes["Source"] == "Web Service API"


def test_upsert_record_level_skips(api: Api) -> None:
    """API-6/28: skipped items keep input order and carry 1001/1004/1005/1006/1003 reasons."""
    api.post(LEADS, {"input": [{"email": "ann@example.com"}]})
    body = api.post(
        LEADS,
        {
            "action": "createOnly",
            "input": [
                {"email": "ann@example.com"},
                {"email": "new@example.com", "nope": 1},
                {"email": "x@example.com", "leadScore": "lots"},
                {"id": 1, "email": "y@example.com"},
                {"email": "fresh@example.com"},
            ],
        },
    )
    codes = [item.get("reasons", [{}])[0].get("code") for item in body["result"]]
    assert codes == ["1005", "1006", "1001", "1003", None]
    assert body["result"][-1]["status"] == "created"
    assert all(isinstance(c, str) for c in codes if c)
    missing = api.post(LEADS, {"action": "updateOnly", "input": [{"email": "ghost@example.com"}]})
    assert missing["result"][0]["reasons"][0]["code"] == "1004"


def test_upsert_by_id_with_update_only(api: Api) -> None:
    """API-28: id is only usable with updateOnly."""
    (created,) = api.post(LEADS, {"input": [{"email": "ann@example.com"}]})["result"]
    body = api.post(
        LEADS,
        {
            "action": "updateOnly",
            "lookupField": "id",
            "input": [{"id": created["id"], "city": "Oslo"}],
        },
    )
    assert body["result"] == [{"id": created["id"], "status": "updated"}]
    lead = api.get(f"/rest/v1/lead/{created['id']}.json", fields="city")["result"]
    assert lead == [{"id": created["id"], "city": "Oslo"}]


def test_several_matches_are_skipped(api: Api) -> None:
    """API-28: 1007 when the lookup matches more than one lead."""
    api.post(
        LEADS,
        {
            "action": "createDuplicate",
            "input": [{"email": "twin@example.com"}, {"email": "twin@example.com"}],
        },
    )
    body = api.post(LEADS, {"input": [{"email": "twin@example.com", "city": "Rome"}]})
    assert body["result"][0]["reasons"][0]["code"] == "1007"


def test_upsert_call_level_errors(api: Api) -> None:
    """API-28: over 300 records → 1003 and nothing written; bad action → 1003; no input → 701."""
    records = [{"email": f"p{i}@example.com"} for i in range(301)]
    assert error_code(api.post(LEADS, {"input": records})) == "1003"
    assert api.get(LEADS, filterType="email", filterValues="p1@example.com")["result"] == []
    assert error_code(api.post(LEADS, {"action": "merge", "input": [{}]})) == "1003"
    assert error_code(api.post(LEADS, {"input": []})) == "701"
    assert error_code(api.post(LEADS, {"lookupField": "nope", "input": [{}]})) == "1006"


def test_get_leads_by_filter_with_fields_and_paging(api: Api) -> None:
    """API-29: default fields, fields=, batchSize paging with nextPageToken, no match = []."""
    api.post(LEADS, {"input": [{"email": f"p{i}@example.com", "city": "Lund"} for i in range(5)]})
    body = api.get(LEADS, filterType="city", filterValues="Lund", batchSize=2, fields="email,city")
    assert body["moreResult"] is True
    seen = [lead["email"] for lead in body["result"]]
    assert set(body["result"][0]) == {"id", "email", "city"}
    while body["moreResult"]:
        body = api.get(
            LEADS,
            filterType="city",
            filterValues="Lund",
            batchSize=2,
            fields="email,city",
            nextPageToken=body["nextPageToken"],
        )
        seen += [lead["email"] for lead in body["result"]]
    assert seen == [f"p{i}@example.com" for i in range(5)]
    one = api.get(LEADS, filterType="email", filterValues="P3@example.com")["result"]
    assert set(one[0]) == {"id", "email", "firstName", "lastName", "createdAt", "updatedAt"}
    assert one[0]["createdAt"] == "2026-03-02T09:00:00Z"
    none = api.get(LEADS, filterType="email", filterValues="nobody@example.com")
    assert none["success"] is True and none["result"] == []


def test_get_leads_errors(api: Api) -> None:
    """API-29: not searchable → 1011, over 300 values / bad batchSize → 1003, unknown → 1006."""
    assert error_code(api.get(LEADS, filterType="leadScore", filterValues="1")) == "1011"
    many = ",".join(str(i) for i in range(301))
    assert error_code(api.get(LEADS, filterType="id", filterValues=many)) == "1003"
    assert error_code(api.get(LEADS, filterType="id", filterValues="1", batchSize=301)) == "1003"
    assert error_code(api.get(LEADS, filterType="shoeSize", filterValues="1")) == "1006"
    assert (
        error_code(api.get(LEADS, filterType="id", filterValues="1", nextPageToken="x")) == "1003"
    )


def test_over_1000_matches_is_refused(api: Api) -> None:
    """API-29, LIM-4: more than 1,000 matches → 1003."""
    for start in range(0, 1001, 300):
        batch = [
            {"email": f"m{i}@example.com", "city": "Big"}
            for i in range(start, min(start + 300, 1001))
        ]
        api.post(LEADS, {"action": "createOnly", "input": batch})
    assert error_code(api.get(LEADS, filterType="city", filterValues="Big")) == "1003"


def test_get_lead_by_id(api: Api) -> None:
    """API-29: zero or one record."""
    (created,) = api.post(LEADS, {"input": [{"email": "ann@example.com"}]})["result"]
    assert api.get(f"/rest/v1/lead/{created['id']}.json")["result"][0]["email"] == "ann@example.com"
    assert api.get("/rest/v1/lead/999.json")["result"] == []


def test_describe_variants(api: Api) -> None:
    """API-30: describe, describe2 and schema/fields shapes."""
    described = api.get("/rest/v1/leads/describe.json")["result"]
    email = next(f for f in described if f["rest"]["name"] == "email")
    assert email["displayName"] == "Email Address" and email["dataType"] == "email"
    assert email["soap"] == {"name": "email", "readOnly": False}
    (lead,) = api.get("/rest/v1/leads/describe2.json")["result"]
    assert lead["name"] == "API Lead"
    assert ["email"] in lead["searchableFields"] and ["id"] in lead["searchableFields"]
    page = api.get("/rest/v1/leads/schema/fields.json", batchSize=3)
    assert len(page["result"]) == 3 and page["moreResult"] is True
    assert set(page["result"][0]) >= {"displayName", "name", "dataType", "isCustom", "isHidden"}


def test_delete_leads(api: Api) -> None:
    """API-31: deleted or skipped 1004; Delete Lead (37) with the API source."""
    (created,) = api.post(LEADS, {"input": [{"email": "ann@example.com"}]})["result"]
    body = api.post("/rest/v1/leads/delete.json", {"input": [{"id": created["id"]}, {"id": 999}]})
    assert body["result"][0] == {"id": created["id"], "status": "deleted"}
    assert body["result"][1]["status"] == "skipped"
    assert body["result"][1]["reasons"][0]["code"] == "1004"
    assert api.get(f"/rest/v1/lead/{created['id']}.json")["result"] == []
    (deleted,) = _activities(api, 37)
    assert deleted.attributes == {"Source": "Web Service API"}


def test_smart_campaign_membership(api: Api) -> None:
    """API-32: memberships by campaign id; unknown lead → 1004."""
    from kampanj.store.schema import campaign_member

    (created,) = api.post(LEADS, {"input": [{"email": "ann@example.com"}]})["result"]
    campaigns = api.ids("campaign")
    with api.database.begin() as connection:
        for name in ("Register", "Nightly"):
            connection.execute(
                campaign_member.insert().values(
                    campaign_id=campaigns[name],
                    person_id=created["id"],
                    created_at=api.clock.now(),
                    updated_at=api.clock.now(),
                )
            )
    body = api.get(f"/rest/v1/leads/{created['id']}/smartCampaignMembership.json")
    assert [m["smartCampaignId"] for m in body["result"]] == sorted(
        [campaigns["Register"], campaigns["Nightly"]]
    )
    assert body["result"][0]["createdAt"] == "2026-03-02T09:00:00Z"
    assert error_code(api.get("/rest/v1/leads/999/smartCampaignMembership.json")) == "1004"
