"""Campaigns in both APIs: Lead Database list/get and Asset smart campaigns (API-14, 15, 22, 23)."""

from __future__ import annotations

from apisupport import Api, error_code


def test_campaigns_list_shape_and_filters(api: Api) -> None:
    """API-14: items by id, default reported as batch, active only for trigger campaigns."""
    body = api.get("/rest/v1/campaigns.json")
    items = {c["name"]: c for c in body["result"]}
    assert [c["id"] for c in body["result"]] == sorted(c["id"] for c in body["result"])
    nightly, register, stamp = items["Nightly"], items["Register"], items["Stamp"]
    assert nightly["type"] == "batch" and "active" not in nightly
    assert register["type"] == "trigger" and register["active"] is True
    assert stamp["type"] == "batch" and stamp["isExecutable"] is True
    assert nightly["programName"] == "Events" and nightly["workspaceName"] == "Default"
    assert nightly["createdAt"] == "2026-03-02T09:00:00Z"
    assert set(nightly) == {
        "id", "name", "description", "type", "programId", "programName",
        "workspaceName", "createdAt", "updatedAt", "isExecutable",
    }  # fmt: skip
    requestable = api.get("/rest/v1/campaigns.json", isTriggerable="true")["result"]
    assert [c["name"] for c in requestable] == ["Register"]
    named = api.get("/rest/v1/campaigns.json", name="nightly,emea nightly")["result"]
    assert [c["name"] for c in named] == ["Nightly", "Emea Nightly"]
    by_program = api.get("/rest/v1/campaigns.json", programName="Events")["result"]
    assert {c["name"] for c in by_program} == {"Nightly", "Register", "Stamp"}


def test_campaigns_paging(api: Api) -> None:
    """API-14: nextPageToken present iff more remain."""
    first = api.get("/rest/v1/campaigns.json", batchSize=3)
    assert len(first["result"]) == 3 and "nextPageToken" in first
    rest = api.get("/rest/v1/campaigns.json", batchSize=3, nextPageToken=first["nextPageToken"])
    assert len(rest["result"]) == 1 and "nextPageToken" not in rest


def test_campaign_by_id(api: Api) -> None:
    """API-15: one item; unknown id → 1013."""
    register = api.ids("campaign")["Register"]
    (item,) = api.get(f"/rest/v1/campaigns/{register}.json")["result"]
    assert item["id"] == register
    assert error_code(api.get("/rest/v1/campaigns/999.json")) == "1013"


def test_smart_campaign_record(api: Api) -> None:
    """API-22/23: the Asset record with type, status and requestability."""
    ids = api.ids("campaign")
    (register,) = api.get(f"/rest/asset/v1/smartCampaign/{ids['Register']}.json")["result"]
    assert register["type"] == "trigger" and register["status"] == "Requested"
    assert register["isRequestable"] is True and register["isSystem"] is False
    assert register["qualificationRuleType"] == "once"
    assert register["folder"]["type"] == "Program"
    assert register["createdAt"] == "2026-03-02T09:00:00Z+0000"
    assert "recurrence" not in register
    (nightly,) = api.get(f"/rest/asset/v1/smartCampaign/{ids['Nightly']}.json")["result"]
    assert (nightly["type"], nightly["status"]) == ("batch", "Never Run")
    (stamp,) = api.get(f"/rest/asset/v1/smartCampaign/{ids['Stamp']}.json")["result"]
    assert (stamp["type"], stamp["status"], stamp["isExecutable"]) == ("default", "Inactive", True)


def test_smart_campaign_no_match_is_a_warning(api: Api) -> None:
    """API-23: no match → success, empty result, warning 702."""
    body = api.get("/rest/asset/v1/smartCampaign/999.json")
    assert body["success"] is True and body["result"] == []
    assert body["warnings"] == [
        {"code": 702, "message": "No assets found for the given search criteria."}
    ]
    named = api.get("/rest/asset/v1/smartCampaign/byName.json", name="register")
    assert [c["name"] for c in named["result"]] == ["Register"]
    assert (
        api.get("/rest/asset/v1/smartCampaign/byName.json", name="Nope")["warnings"][0]["code"]
        == 702
    )


def test_browse_smart_campaigns(api: Api) -> None:
    """API-23: folder = anywhere beneath, isActive, maxReturn/offset (709 out of range)."""
    folders = api.ids("folder")
    body = api.get(
        "/rest/asset/v1/smartCampaigns.json",
        folder=f'{{"id": {folders["Marketing"]}, "type": "Folder"}}',
    )
    assert {c["name"] for c in body["result"]} == {"Nightly", "Register", "Stamp"}
    active = api.get("/rest/asset/v1/smartCampaigns.json", isActive="true")["result"]
    assert [c["name"] for c in active] == ["Register"]
    paged = api.get("/rest/asset/v1/smartCampaigns.json", maxReturn=2, offset=2)["result"]
    assert len(paged) == 2
    assert error_code(api.get("/rest/asset/v1/smartCampaigns.json", maxReturn=201)) == "709"
    late = api.get("/rest/asset/v1/smartCampaigns.json", earliestUpdatedAt="2026-04-01T00:00:00Z")
    assert late["result"] == [] and late["warnings"][0]["code"] == 702
