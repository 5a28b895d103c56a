"""Smart lists, folders, programs and My Tokens in the Asset API (API-26, 27, 40, 41)."""

from __future__ import annotations

from apisupport import Api, error_code

from kampanj.api.users import Role


def test_smart_list_with_rules(api: Api) -> None:
    """API-26: record plus rules with ruleType and ids when includeRules=true."""
    ids = api.ids("smart_list")
    plain = api.get(f"/rest/asset/v1/smartList/{ids['Has Email']}.json")["result"][0]
    assert set(plain) == {
        "id",
        "name",
        "description",
        "folder",
        "workspace",
        "createdAt",
        "updatedAt",
        "url",
    }
    full = api.get(f"/rest/asset/v1/smartList/{ids['Has Email']}.json", includeRules="true")
    rules = full["result"][0]["rules"]
    assert rules["filterMatchType"] == "All" and rules["triggers"] == []
    (rule,) = rules["filters"]
    assert rule["ruleType"] == "Attribute" and rule["name"] == "Email Address"
    assert rule["operator"] == "is not empty"
    assert isinstance(rule["ruleTypeId"], int)
    listed = api.get("/rest/asset/v1/smartLists.json")["result"]
    assert [s["name"] for s in listed] == ["Has Email"]


def test_campaign_smart_list_rules(api: Api) -> None:
    """API-26: a campaign's smart list: triggers as Activity rules with the type id."""
    register = api.ids("campaign")["Register"]
    body = api.get(f"/rest/asset/v1/smartCampaign/{register}/smartList.json", includeRules="true")
    (trigger,) = body["result"][0]["rules"]["triggers"]
    assert trigger["ruleType"] == "Activity" and trigger["ruleTypeId"] == 47
    (condition,) = trigger["conditions"]
    assert condition["activityAttributeName"] == "Source"
    assert condition["values"] == ["Web Service API"]
    assert condition["isPrimary"] is False


def test_folders_and_programs(api: Api) -> None:
    """API-27: folder and program records, type filter, browse with root and maxDepth."""
    folders = api.ids("folder")
    (program,) = api.get(f"/rest/asset/v1/program/{folders['Events']}.json")["result"]
    assert program["type"] == "Program" and program["path"] == "/Default/Marketing/Events"
    assert program["workspace"] == "Default"
    assert program["folder"] == {"id": folders["Marketing"], "type": "Folder"}
    plain = api.get(f"/rest/asset/v1/folder/{folders['Marketing']}.json", type="Folder")
    assert plain["result"][0]["name"] == "Marketing"
    wrong = api.get(f"/rest/asset/v1/folder/{folders['Marketing']}.json", type="Program")
    assert wrong["result"] == [] and wrong["warnings"][0]["code"] == 702
    programs = api.get("/rest/asset/v1/programs.json")["result"]
    assert [p["name"] for p in programs] == ["Events"]
    below = api.get(
        "/rest/asset/v1/folders.json",
        root=f'{{"id": {folders["Marketing"]}, "type": "Folder"}}',
        maxDepth=1,
    )["result"]
    assert {f["name"] for f in below} == {"Marketing", "Events"}
    scoped = api.token("emea", Role.READ_ONLY, ("EMEA",))
    names = {f["name"] for f in api.get("/rest/asset/v1/folders.json", token=scoped)["result"]}
    assert names == {"EMEA", "Regional"}


def test_folder_tokens(api: Api) -> None:
    """API-40: every visible token sorted by name with local / inherited / overridden."""
    events = api.ids("folder")["Events"]
    body = api.get(f"/rest/asset/v1/folder/{events}/tokens.json", folderType="Program")
    (entry,) = body["result"]
    assert entry["folder"] == {"type": "Program", "value": events}
    statuses = {t["name"]: (t["type"], t["value"], t["status"]) for t in entry["tokens"]}
    assert statuses == {
        "Event Name": ("text", "Summit", "local"),
        "Points": ("score", "+10", "overridden"),
        "Root Note": ("text", "root", "inherited"),
    }
    assert [t["name"] for t in entry["tokens"]] == ["Event Name", "Points", "Root Note"]
    assert error_code(api.get("/rest/asset/v1/folder/999/tokens.json")) == "702"


def test_create_update_and_delete_tokens(api: Api) -> None:
    """API-41: form or JSON writes, 701 missing, 709 invalid, delete local only."""
    events = api.ids("folder")["Events"]
    path = f"/rest/asset/v1/folder/{events}/tokens.json"
    headers = {"Authorization": f"Bearer {api.token()}"}
    created = api.client.post(
        path,
        data={"name": "Room", "type": "text", "value": "B12", "folderType": "Program"},
        headers=headers,
    ).json()
    tokens = {t["name"]: t for t in created["result"][0]["tokens"]}
    assert tokens["Room"]["value"] == "B12" and tokens["Room"]["status"] == "local"
    updated = api.post(path, {"name": "room", "type": "text", "value": "C3"})
    # GEN-7: the same token respelled in case; the new spelling is kept
    assert {t["name"]: t["value"] for t in updated["result"][0]["tokens"]}["room"] == "C3"
    assert error_code(api.post(path, {"name": "Room", "type": "text"})) == "701"
    assert error_code(api.post(path, {"name": "Bad", "type": "score", "value": "ten"})) == "709"
    assert error_code(api.post(path, {"name": "Bad", "type": "colour", "value": "x"})) == "709"
    deleted = api.post(
        f"/rest/asset/v1/folder/{events}/tokens/delete.json", {"name": "Room", "type": "text"}
    )
    assert deleted["result"] == [{"id": events}]
    inherited = api.post(
        f"/rest/asset/v1/folder/{events}/tokens/delete.json", {"name": "Root Note", "type": "text"}
    )
    assert error_code(inherited) == "709"


def test_token_writes_need_read_write_and_scope(api: Api) -> None:
    """API-8 / WS-5: read-only → 603; another workspace → 603."""
    events = api.ids("folder")["Events"]
    path = f"/rest/asset/v1/folder/{events}/tokens.json"
    reader = api.token("reader", Role.READ_ONLY)
    assert (
        error_code(api.post(path, {"name": "X", "type": "text", "value": "x"}, token=reader))
        == "603"
    )
    emea = api.token("emea", Role.READ_WRITE, ("EMEA",))
    assert error_code(api.get(path, token=emea)) == "603"
