"""Push lead, submit form (API-31) and external activities (API-37, ACT-9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apisupport import Api, error_code
from sqlalchemy import select

from kampanj.services.apply import apply_paths
from kampanj.store.schema import activity, run


def _activities(api: Api, type_id: int) -> list[Any]:
    with api.database.read() as connection:
        statement = select(activity).where(activity.c.activity_type_id == type_id)
        return list(connection.execute(statement.order_by(activity.c.id)))


def test_push_leads(api: Api) -> None:
    """API-31: upsert and Push Lead to Marketo (145) per lead; 701 / 1013 refusals."""
    body = api.post(
        "/rest/v1/leads/push.json",
        {
            "programName": "events",
            "source": "Partner",
            "reason": "Booth scan",
            "input": [{"email": "ann@example.com"}, {"email": "bo@example.com", "nope": 1}],
        },
    )
    assert body["result"][0]["status"] == "created"
    assert body["result"][1]["reasons"][0]["code"] == "1006"
    (push,) = _activities(api, 145)
    assert push.person_id == body["result"][0]["id"]
    assert push.primary_attribute_value == "Events"
    assert push.primary_attribute_value_id == api.ids("folder")["Events"]
    assert push.attributes == {"Source": "Partner", "Reason": "Booth scan"}
    assert error_code(api.post("/rest/v1/leads/push.json", {"input": [{}]})) == "701"
    missing = {"programName": "Nope", "input": [{"email": "c@example.com"}]}
    assert error_code(api.post("/rest/v1/leads/push.json", missing)) == "1013"


def test_submit_form(api: Api) -> None:
    """API-31: upsert by email and Fill Out Form (2) with visitor data."""
    body = api.post(
        "/rest/v1/leads/submitForm.json",
        {
            "formId": 1001,
            "input": [
                {
                    "leadFormFields": {"email": "ann@example.com", "firstName": "Ann"},
                    "visitorData": {"pageURL": "https://acme.example/signup", "queryString": "a=1"},
                }
            ],
        },
    )
    (item,) = body["result"]
    assert item["status"] == "created"
    (form,) = _activities(api, 2)
    assert form.person_id == item["id"] and form.primary_attribute_value == "1001"
    assert form.attributes["Webpage ID"] == "https://acme.example/signup"
    assert form.attributes["Query Parameters"] == "a=1"
    assert error_code(api.post("/rest/v1/leads/submitForm.json", {"input": [{}]})) == "701"


def test_external_activities(api: Api) -> None:
    """API-37: custom activities recorded; any bad record refuses the whole call (ACT-9)."""
    (lead,) = api.post("/rest/v1/leads.json", {"input": [{"email": "ann@example.com"}]})["result"]
    good = {
        "leadId": lead["id"],
        "activityDate": "2026-03-01T10:00:00Z",
        "activityTypeId": 100001,
        "primaryAttributeValue": "Summit",
        "attributes": [{"name": "minutes attended", "value": 45}],
    }
    body = api.post("/rest/v1/activities/external.json", {"input": [good]})
    assert body["result"] == [{"status": "added"}]
    (row,) = _activities(api, 100001)
    assert row.attributes == {"Minutes Attended": 45}
    assert row.primary_attribute_value == "Summit"
    for bad, code in (
        ({**good, "activityTypeId": 1}, "1003"),
        ({**good, "leadId": 999}, "1004"),
        ({**good, "attributes": [{"name": "Shoe Size", "value": 1}]}, "1003"),
        ({**good, "attributes": [{"name": "Minutes Attended", "value": "long"}]}, "1003"),
        ({**good, "activityDate": "later"}, "704"),
    ):
        assert (
            error_code(api.post("/rest/v1/activities/external.json", {"input": [good, bad]}))
            == code
        )
    assert len(_activities(api, 100001)) == 1


FORM_TRIGGER = """\
workspace: EMEA
folders:
  - name: Regional
    campaigns:
      - name: Form Follow-up
        active: true
        smartList:
          triggers:
            - Fills Out Form: {}
        flow:
          - Change Data Value: {attribute: Title, newValue: Filled}
"""


def test_a_form_fill_fires_a_trigger_campaign(api: Api, tmp_path: Path) -> None:
    """ACT-6 / CMP-14: activities written through the API are offered to triggers."""
    path = tmp_path / "trigger.yaml"
    path.write_text(FORM_TRIGGER, encoding="utf-8")
    apply_paths(api.database, [path], clock=api.clock)
    api.post(
        "/rest/v1/leads/submitForm.json",
        {"formId": 7, "input": [{"leadFormFields": {"email": "ann@example.com"}}]},
    )
    follow_up = api.ids("campaign")["Form Follow-up"]
    with api.database.read() as connection:
        fired = connection.execute(select(run.c.campaign_id)).scalars().all()
    assert fired == [follow_up]
