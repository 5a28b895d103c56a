"""Smart campaign writes of the Asset API (API-24, API-25; CMP-12, CMP-13, CMP-24, CMP-27)."""

from __future__ import annotations

from datetime import timedelta

from apisupport import Api, error_code
from sqlalchemy import select

from kampanj.api.users import Role
from kampanj.model.campaigns import Step, StepType
from kampanj.store import codec
from kampanj.store.schema import campaign

BASE = "/rest/asset/v1"


def _folder(api: Api, name: str = "Events", kind: str = "Program") -> str:
    return f'{{"id": {api.ids("folder")[name]}, "type": "{kind}"}}'


def test_create_empty_campaign(api: Api) -> None:
    """API-24: type default, status Never Run (Inactive if executable); form or JSON."""
    headers = {"Authorization": f"Bearer {api.token()}"}
    body = api.client.post(
        f"{BASE}/smartCampaigns.json",
        data={"name": "Fresh", "folder": _folder(api), "description": "new"},
        headers=headers,
    ).json()
    (record,) = body["result"]
    assert (record["name"], record["type"], record["status"]) == ("Fresh", "default", "Never Run")
    assert record["description"] == "new" and record["isExecutable"] is False
    child = api.post(
        f"{BASE}/smartCampaigns.json",
        {
            "name": "Child",
            "folder": {"id": api.ids("folder")["Events"], "type": "Program"},
            "isExecutable": True,
        },
    )["result"][0]
    assert (child["isExecutable"], child["status"]) == (True, "Inactive")


def test_create_refusals(api: Api) -> None:
    """API-24: missing → 701, unknown folder → 710, duplicate or long description → 709."""
    path = f"{BASE}/smartCampaigns.json"
    assert error_code(api.post(path, {"folder": _folder(api)})) == "701"
    assert error_code(api.post(path, {"name": "X"})) == "701"
    assert (
        error_code(api.post(path, {"name": "X", "folder": '{"id": 999, "type": "Folder"}'}))
        == "710"
    )
    assert error_code(api.post(path, {"name": "nightly", "folder": _folder(api)})) == "709"
    long = {"name": "Y", "folder": _folder(api), "description": "d" * 2001}
    assert error_code(api.post(path, long)) == "709"
    reader = api.token("reader", Role.READ_ONLY)
    assert error_code(api.post(path, {"name": "Z", "folder": _folder(api)}, token=reader)) == "603"


def test_update_name_and_description_only(api: Api) -> None:
    """API-24: rename and describe; isExecutable → 709; unknown → 702."""
    nightly = api.ids("campaign")["Nightly"]
    body = api.post(
        f"{BASE}/smartCampaign/{nightly}.json", {"name": "Nightly Scoring", "description": "d"}
    )
    assert (body["result"][0]["name"], body["result"][0]["description"]) == ("Nightly Scoring", "d")
    assert (
        error_code(api.post(f"{BASE}/smartCampaign/{nightly}.json", {"isExecutable": True}))
        == "709"
    )
    assert error_code(api.post(f"{BASE}/smartCampaign/999.json", {"name": "x"})) == "702"


def test_rename_that_breaks_a_reference_is_refused(api: Api) -> None:
    """VAL-3: Execute Campaign names Stamp; renaming Stamp would add EXE_TARGET → 709."""
    ids = api.ids("campaign")
    created = api.post(f"{BASE}/smartCampaigns.json", {"name": "Caller", "folder": _folder(api)})
    caller = created["result"][0]["id"]

    flow = (Step(id="s1", type=StepType.EXECUTE_CAMPAIGN, params={"campaign": "Stamp"}),)
    with api.database.begin() as connection:
        connection.execute(
            campaign.update().where(campaign.c.id == caller).values(flow=codec.flow_to_json(flow))
        )
    body = api.post(f"{BASE}/smartCampaign/{ids['Stamp']}.json", {"name": "Stomp"})
    assert error_code(body) == "709"
    with api.database.read() as connection:
        assert (
            connection.execute(
                select(campaign.c.name).where(campaign.c.id == ids["Stamp"])
            ).scalar()
            == "Stamp"
        )


def test_clone(api: Api) -> None:
    """API-25: the clone is inactive, in the same workspace, executable only if asked."""
    register = api.ids("campaign")["Register"]
    body = api.post(
        f"{BASE}/smartCampaign/{register}/clone.json",
        {
            "name": "Register Copy",
            "folder": _folder(api, "Marketing", "Folder"),
            "description": "copy",
        },
    )
    (clone,) = body["result"]
    assert clone["name"] == "Register Copy" and clone["isActive"] is False
    assert clone["type"] == "trigger" and clone["description"] == "copy"
    assert clone["folder"] == {"id": api.ids("folder")["Marketing"], "type": "Folder"}
    into_executable = api.post(
        f"{BASE}/smartCampaign/{register}/clone.json",
        {"name": "Exec Copy", "folder": _folder(api), "isExecutable": True},
    )
    assert error_code(into_executable) == "709"  # CMP-25: triggers cannot go executable
    other = api.post(
        f"{BASE}/smartCampaign/{register}/clone.json",
        {"name": "Far", "folder": _folder(api, "Regional", "Folder")},
    )
    assert error_code(other) == "709"  # WS-3
    missing = api.post(
        f"{BASE}/smartCampaign/999/clone.json", {"name": "x", "folder": _folder(api)}
    )
    assert error_code(missing) == "702"


def test_activate_deactivate(api: Api) -> None:
    """CMP-12/13: refusals in order; active flips; unknown → 702."""
    ids = api.ids("campaign")
    assert error_code(api.post(f"{BASE}/smartCampaign/{ids['Stamp']}/activate.json")) == "1003"
    assert error_code(api.post(f"{BASE}/smartCampaign/{ids['Register']}/activate.json")) == "709"
    assert error_code(api.post(f"{BASE}/smartCampaign/{ids['Nightly']}/activate.json")) == "709"
    done = api.post(f"{BASE}/smartCampaign/{ids['Register']}/deactivate.json")
    assert done["result"] == [{"id": ids["Register"]}]
    record = api.get(f"{BASE}/smartCampaign/{ids['Register']}.json")["result"][0]
    assert (record["isActive"], record["status"]) == (False, "Inactive")
    assert error_code(api.post(f"{BASE}/smartCampaign/{ids['Register']}/deactivate.json")) == "709"
    api.clock.set(api.clock.now() + timedelta(minutes=5))
    assert api.post(f"{BASE}/smartCampaign/{ids['Register']}/activate.json")["success"] is True
    with api.database.read() as connection:
        activated = connection.execute(
            select(campaign.c.activated_at).where(campaign.c.id == ids["Register"])
        ).scalar_one()
    assert activated == api.clock.now()  # a re-activation restarts CMP-23's six months
    assert error_code(api.post(f"{BASE}/smartCampaign/999/activate.json")) == "702"


def test_delete(api: Api) -> None:
    """CMP-27: refused while active; otherwise gone (activities stay)."""
    ids = api.ids("campaign")
    assert error_code(api.post(f"{BASE}/smartCampaign/{ids['Register']}/delete.json")) == "709"
    body = api.post(f"{BASE}/smartCampaign/{ids['Nightly']}/delete.json")
    assert body["result"] == [{"id": ids["Nightly"]}]
    assert "Nightly" not in api.ids("campaign")
    assert error_code(api.post(f"{BASE}/smartCampaign/{ids['Nightly']}/delete.json")) == "702"
