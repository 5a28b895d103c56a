"""Activities API: types, paging tokens, activities, lead changes, deleted leads (API-34..37)."""

from __future__ import annotations

from datetime import timedelta

from apisupport import Api, error_code


def _token(api: Api, since: str = "2026-03-01T00:00:00Z") -> str:
    body = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=since)
    assert body["success"] is True and "result" not in body
    token: str = body["nextPageToken"]
    return token


def test_activity_types(api: Api) -> None:
    """API-34: every ACT-3 type with primary attribute and attributes."""
    types = {t["id"]: t for t in api.get("/rest/v1/activities/types.json")["result"]}
    assert types[24]["name"] == "Add to List"
    assert types[24]["primaryAttribute"] == {"name": "List ID", "dataType": "string"}
    assert {"name": "Source", "dataType": "string"} in types[24]["attributes"]
    assert "primaryAttribute" not in types[12]


def test_paging_token_errors(api: Api) -> None:
    """API-35: sinceDatetime required (701), unparseable → 704."""
    assert error_code(api.get("/rest/v1/activities/pagingtoken.json")) == "701"
    bad = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime="yesterday")
    assert error_code(bad) == "704"


def test_activities_by_type_paged(api: Api) -> None:
    """API-36: activities in id order, nextPageToken always, moreResult while more remain."""
    api.post("/rest/v1/leads.json", {"input": [{"email": f"p{i}@example.com"} for i in range(3)]})
    token = _token(api)
    page = api.get(
        "/rest/v1/activities.json", nextPageToken=token, activityTypeIds="12", batchSize=2
    )
    assert page["moreResult"] is True and len(page["result"]) == 2
    first = page["result"][0]
    assert set(first) >= {"id", "marketoGUID", "leadId", "activityDate", "activityTypeId"}
    assert first["marketoGUID"] == str(first["id"])
    assert {"name": "Source Type", "value": "Web Service API"} in first["attributes"]
    rest = api.get(
        "/rest/v1/activities.json",
        nextPageToken=page["nextPageToken"],
        activityTypeIds="12",
        batchSize=2,
    )
    assert rest["moreResult"] is False and "nextPageToken" in rest
    assert [a["leadId"] for a in page["result"] + rest["result"]] == sorted(
        a["leadId"] for a in page["result"] + rest["result"]
    )
    later = _token(api, "2026-03-05T00:00:00Z")
    none = api.get("/rest/v1/activities.json", nextPageToken=later, activityTypeIds="12")
    assert none["result"] == [] and none["moreResult"] is False


def test_activities_filters_and_retention(api: Api) -> None:
    """API-36: leadIds narrow; ACT-8: past their retention activities are invisible."""
    body = api.post("/rest/v1/leads.json", {"input": [{"email": "a@example.com", "city": "X"}]})
    lead = body["result"][0]["id"]
    api.post("/rest/v1/leads.json", {"input": [{"email": "a@example.com", "city": "Y"}]})
    token = _token(api)
    mine = api.get(
        "/rest/v1/activities.json", nextPageToken=token, activityTypeIds="13", leadIds=str(lead)
    )
    assert [a["primaryAttributeValue"] for a in mine["result"]] == ["City"]
    api.clock.set(api.clock.now() + timedelta(days=91))  # Change Data Value keeps 90 days
    later = api.token("later")  # the first token expired meanwhile
    gone = api.get("/rest/v1/activities.json", later, nextPageToken=token, activityTypeIds="12,13")
    assert [a["activityTypeId"] for a in gone["result"]] == [12]


def test_activities_errors(api: Api) -> None:
    """API-36: token and types required (701), over 10 types / 30 leads → 1003."""
    token = _token(api)
    assert error_code(api.get("/rest/v1/activities.json", activityTypeIds="1")) == "701"
    assert error_code(api.get("/rest/v1/activities.json", nextPageToken=token)) == "701"
    eleven = ",".join(["1"] * 11)
    assert (
        error_code(api.get("/rest/v1/activities.json", nextPageToken=token, activityTypeIds=eleven))
        == "1003"
    )
    leads = ",".join(str(i) for i in range(31))
    body = api.get(
        "/rest/v1/activities.json", nextPageToken=token, activityTypeIds="1", leadIds=leads
    )
    assert error_code(body) == "1003"
    assets = api.get(
        "/rest/v1/activities.json", nextPageToken=token, activityTypeIds="1,2", assetIds="5"
    )
    assert error_code(assets) == "1003"


def test_lead_changes_and_deleted_leads(api: Api) -> None:
    """API-37: Change Data Value of the asked fields with fields[]; Delete Lead activities."""
    (created,) = api.post(
        "/rest/v1/leads.json", {"input": [{"email": "a@example.com", "city": "X"}]}
    )["result"]
    api.post(
        "/rest/v1/leads.json", {"input": [{"email": "a@example.com", "city": "Y", "title": "Boss"}]}
    )
    token = _token(api)
    changes = api.get("/rest/v1/activities/leadchanges.json", nextPageToken=token, fields="city")
    kinds = [(a["activityTypeId"], a["fields"]) for a in changes["result"]]
    assert kinds[0] == (12, [])
    assert kinds[1][0] == 13
    assert kinds[1][1][0]["name"] == "city"
    assert kinds[1][1][0]["oldValue"] == "X" and kinds[1][1][0]["newValue"] == "Y"
    assert len(kinds) == 2  # the title change is not asked for
    assert error_code(api.get("/rest/v1/activities/leadchanges.json", nextPageToken=token)) == "701"
    api.post("/rest/v1/leads/delete.json", {"input": [{"id": created["id"]}]})
    deleted = api.get("/rest/v1/activities/deletedleads.json", nextPageToken=token)
    assert [a["leadId"] for a in deleted["result"]] == [created["id"]]
    assert deleted["result"][0]["activityTypeId"] == 37
