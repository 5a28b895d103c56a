"""Static lists in the Asset API (API-38, WS-5, VAL-3)."""

from __future__ import annotations

from apisupport import Api, error_code

from kampanj.api.users import Role

BASE = "/rest/asset/v1"


def test_browse_get_and_by_name(api: Api) -> None:
    """API-38: records with folder, workspace, computedUrl; no match → warning 702."""
    listed = api.get(f"{BASE}/staticLists.json")["result"]
    assert [s["name"] for s in listed] == ["Attendees", "EMEA Leads"]
    attendees = listed[0]
    assert attendees["folder"] == {"id": api.ids("folder")["Events"], "type": "Program"}
    assert attendees["workspace"] == "Default"
    assert attendees["createdAt"] == "2026-03-02T09:00:00Z+0000"
    one = api.get(f"{BASE}/staticList/{attendees['id']}.json")["result"]
    assert one == [attendees]
    named = api.get(f"{BASE}/staticList/byName.json", name="attendees")["result"]
    assert named == [attendees]
    none = api.get(f"{BASE}/staticList/999.json")
    assert none["result"] == [] and none["warnings"][0]["code"] == 702
    scoped = api.token("emea", Role.READ_ONLY, ("EMEA",))
    assert [s["name"] for s in api.get(f"{BASE}/staticLists.json", token=scoped)["result"]] == [
        "EMEA Leads"
    ]
    assert error_code(api.get(f"{BASE}/staticList/{attendees['id']}.json", token=scoped)) == "603"


def test_create_and_update(api: Api) -> None:
    """API-38: create in a folder; update name and description; duplicate → 709."""
    folder = f'{{"id": {api.ids("folder")["Marketing"]}, "type": "Folder"}}'
    created = api.post(f"{BASE}/staticLists.json", {"name": "VIPs", "folder": folder})
    (record,) = created["result"]
    assert record["name"] == "VIPs" and record["workspace"] == "Default"
    assert "VIPs" in api.ids("list")
    updated = api.post(
        f"{BASE}/staticList/{record['id']}.json", {"name": "Top VIPs", "description": "d"}
    )
    assert (updated["result"][0]["name"], updated["result"][0]["description"]) == ("Top VIPs", "d")
    taken = api.post(f"{BASE}/staticLists.json", {"name": "attendees", "folder": folder})
    assert error_code(taken) == "709"
    assert error_code(api.post(f"{BASE}/staticLists.json", {"folder": folder})) == "701"
    assert error_code(api.post(f"{BASE}/staticList/999.json", {"name": "x"})) == "702"
