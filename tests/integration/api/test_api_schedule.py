"""POST /rest/v1/campaigns/{id}/schedule.json (API-19, API-20, TOK-16..17)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from apisupport import Api, error_code
from sqlalchemy import select

from kampanj.api import ApiSettings
from kampanj.api.users import Role
from kampanj.engine.tick import tick
from kampanj.services.apply import apply_paths
from kampanj.store.definitions_repo import read_definitions
from kampanj.store.schema import run, scheduled_run


def _scheduled(api: Api) -> list[object]:
    with api.database.read() as connection:
        return list(connection.execute(select(scheduled_run).order_by(scheduled_run.c.id)))


def test_schedule_defaults_to_five_minutes_and_runs_at_tick(api: Api) -> None:
    """API-20: runAt defaults to now + 5 min; the tick then starts the run (CMP-8)."""
    nightly = api.ids("campaign")["Nightly"]
    body = api.post(f"/rest/v1/campaigns/{nightly}/schedule.json")
    assert body["success"] is True
    (item,) = body["result"]
    assert item["id"] == nightly and item["runId"] is None
    (row,) = _scheduled(api)
    assert row.id == item["scheduledRunId"]
    assert row.run_at == api.clock.now() + timedelta(minutes=5)
    api.clock.set(row.run_at)
    tick(api.database, api.clock)
    with api.database.read() as connection:
        runs = connection.execute(select(run.c.campaign_id)).scalars().all()
    assert runs == [nightly]


def test_run_at_is_moved_or_refused(api: Api) -> None:
    """API-20: an earlier runAt moves to now + 5 min; over 2 years ahead → 1042."""
    nightly = api.ids("campaign")["Nightly"]
    path = f"/rest/v1/campaigns/{nightly}/schedule.json"
    api.post(path, {"input": {"runAt": "2020-01-01T00:00:00Z"}})
    api.post(path, {"input": {"runAt": "2026-03-03T10:00:00+01:00"}})
    early, later = _scheduled(api)
    assert early.run_at == api.clock.now() + timedelta(minutes=5)
    assert later.run_at.isoformat() == "2026-03-03T09:00:00+00:00"
    assert error_code(api.post(path, {"input": {"runAt": "2029-01-01T00:00:00Z"}})) == "1042"
    assert error_code(api.post(path, {"input": {"runAt": "soon"}})) == "704"


def test_token_overrides_and_warnings(api: Api) -> None:
    """API-20 / TOK-17: accepted overrides are stored; an unknown token is warning 1003."""
    nightly = api.ids("campaign")["Nightly"]
    body = api.post(
        f"/rest/v1/campaigns/{nightly}/schedule.json",
        {
            "input": {
                "tokens": [
                    {"name": "{{my.Event Name}}", "value": "Expo"},
                    {"name": "{{my.Nope}}", "value": "x"},
                ]
            }
        },
    )
    (warning,) = body["warnings"]
    assert warning["code"] == 1003 and "Nope" in warning["message"]
    (row,) = _scheduled(api)
    assert list(row.token_overrides.values()) == ["Expo"]
    too_many = {"input": {"tokens": [{"name": "{{my.Points}}", "value": "+1"}] * 101}}
    assert error_code(api.post(f"/rest/v1/campaigns/{nightly}/schedule.json", too_many)) == "1003"


def test_schedule_refusals(api: Api) -> None:
    """API-19: unknown → 1013; trigger / default / executable → 1003; role → 603; WS-5 → 603."""
    ids = api.ids("campaign")
    assert error_code(api.post("/rest/v1/campaigns/999/schedule.json")) == "1013"
    assert error_code(api.post(f"/rest/v1/campaigns/{ids['Register']}/schedule.json")) == "1003"
    assert error_code(api.post(f"/rest/v1/campaigns/{ids['Stamp']}/schedule.json")) == "1003"
    writer = api.token("writer", Role.READ_WRITE)
    body = api.post(f"/rest/v1/campaigns/{ids['Nightly']}/schedule.json", token=writer)
    assert error_code(body) == "603"
    emea = api.token("emea", Role.EXECUTE_CAMPAIGN, ("EMEA",))
    body = api.post(f"/rest/v1/campaigns/{ids['Nightly']}/schedule.json", token=emea)
    assert error_code(body) == "603"
    assert _scheduled(api) == []


WEBINARS = """\
workspace: Default
folders:
  - name: Marketing
    programs:
      - name: Webinar Template
        tokens:
          Topic: {type: text, value: Kampanj 101}
        campaigns:
          - name: Invite
            smartList:
              filters:
                - Email Address: is not empty
            flow:
              - Change Data Value: {attribute: Title, newValue: "{{my.Topic}}"}
          - name: Follow-up
            active: true
            smartList:
              triggers:
                - Fills Out Form: {}
            flow:
              - Change Data Value: {attribute: City, newValue: "{{my.Topic}}"}
        folders:
          - name: Extras
            tokens:
              Topic: {type: text, value: Extra}
"""


def _webinars(api: Api, tmp_path: Path) -> int:
    path = tmp_path / "webinars.yaml"
    path.write_text(WEBINARS, encoding="utf-8")
    apply_paths(api.database, [path], clock=api.clock)
    return api.ids("campaign")["Invite"]


def test_clone_to_program_schedules_the_copy(api: Api, tmp_path: Path) -> None:
    """API-21: the program is copied beside the original with its folders, tokens and
    campaigns (inactive); the copy of the campaign is scheduled and its id returned."""
    invite = _webinars(api, tmp_path)
    body = api.post(
        f"/rest/v1/campaigns/{invite}/schedule.json",
        {"input": {"cloneToProgramName": "Webinar March"}},
    )
    (item,) = body["result"]
    assert item["id"] != invite
    (row,) = _scheduled(api)
    assert row.campaign_id == item["id"]
    with api.database.read() as connection:
        stored = read_definitions(connection)
    copies = {c.name: c for c in stored.campaigns if c.folder == ("Marketing", "Webinar March")}
    assert copies["Invite"].id == item["id"]
    assert copies["Follow-up"].active is False
    assert {f.path for f in stored.folders if "Webinar March" in f.path} == {
        ("Marketing", "Webinar March"),
        ("Marketing", "Webinar March", "Extras"),
    }
    tokens = {
        (t.folder, t.name, t.value)
        for t in stored.tokens
        if t.folder and "Webinar March" in t.folder
    }
    assert tokens == {
        (("Marketing", "Webinar March"), "Topic", "Kampanj 101"),
        (("Marketing", "Webinar March", "Extras"), "Topic", "Extra"),
    }
    original = next(c for c in stored.campaigns if c.id == invite)
    assert original.folder == ("Marketing", "Webinar Template")
    programs = api.get("/rest/asset/v1/programs.json", maxReturn=200)["result"]
    assert {p["name"] for p in programs} >= {"Webinar Template", "Webinar March"}


def test_clone_to_program_refusals(api: Api, tmp_path: Path) -> None:
    """API-21: both names and different → 1003; no program, lists in it, a taken name →
    709; over cloneToProgramPerDay → 1020; nothing written on refusal."""
    invite = _webinars(api, tmp_path)
    path = f"/rest/v1/campaigns/{invite}/schedule.json"
    both = {"input": {"cloneToProgramName": "A", "cloneToProgram": "B"}}
    assert error_code(api.post(path, both)) == "1003"
    taken = {"input": {"cloneToProgramName": "events"}}
    assert error_code(api.post(path, taken)) == "709"
    nightly = api.ids("campaign")["Nightly"]  # Events holds a static list
    with_lists = {"input": {"cloneToProgramName": "Events 2"}}
    assert error_code(api.post(f"/rest/v1/campaigns/{nightly}/schedule.json", with_lists)) == "709"
    emea = api.ids("campaign")["Emea Nightly"]  # in a plain folder
    assert error_code(api.post(f"/rest/v1/campaigns/{emea}/schedule.json", with_lists)) == "709"
    assert _scheduled(api) == []
    same = {"input": {"cloneToProgramName": "Copy 1", "cloneToProgram": "Copy 1"}}
    assert api.post(path, same)["success"] is True


@pytest.mark.parametrize("api_settings", [ApiSettings(clone_to_program_per_day=2)])
def test_clone_to_program_daily_limit(api: Api, tmp_path: Path) -> None:
    """API-21, LIM-11: the day's clones are limited by cloneToProgramPerDay."""
    invite = _webinars(api, tmp_path)
    path = f"/rest/v1/campaigns/{invite}/schedule.json"
    for number in range(2):
        assert api.post(path, {"input": {"cloneToProgram": f"Copy {number}"}})["success"]
    assert error_code(api.post(path, {"input": {"cloneToProgram": "Copy 2"}})) == "1020"
    assert len(_scheduled(api)) == 2


CALLS = """\
workspace: Default
folders:
  - name: Marketing
    programs:
      - name: Launch
        tokens:
          Topic: {type: text, value: Launch}
        campaigns:
          - name: Announce
            smartList:
              filters:
                - Email Address: is not empty
            flow:
              - Execute Campaign: {campaign: REFERENCE, useParentContext: true}
          - name: Stamp Title
            executable: true
            flow:
              - Change Data Value: {attribute: Title, newValue: "{{my.Topic}}"}
"""


def _launch(api: Api, tmp_path: Path, reference: str) -> int:
    path = tmp_path / "launch.yaml"
    path.write_text(CALLS.replace("REFERENCE", reference), encoding="utf-8")
    apply_paths(api.database, [path], clock=api.clock)
    return api.ids("campaign")["Announce"]


def test_the_scheduled_copy_runs_with_the_copy_s_tokens(api: Api, tmp_path: Path) -> None:
    """API-21 / CMP-26: the copy's run resolves My Tokens in the copied program; its
    Execute Campaign keeps its target (references are copied as written) and passes the
    copy's token context."""
    announce = _launch(api, tmp_path, "Marketing/Launch/Stamp Title")
    (lead,) = api.post("/rest/v1/leads.json", {"input": [{"email": "a@example.com"}]})["result"]
    body = api.post(
        f"/rest/v1/campaigns/{announce}/schedule.json",
        {"input": {"cloneToProgramName": "Launch 2"}},
    )
    assert body["success"] is True, body
    programs = api.get("/rest/asset/v1/programs.json")["result"]
    copy = next(p for p in programs if p["name"] == "Launch 2")
    api.post(
        f"/rest/asset/v1/folder/{copy['id']}/tokens.json",
        {"name": "Topic", "type": "text", "value": "Second launch", "folderType": "Program"},
    )
    (row,) = _scheduled(api)
    api.clock.set(row.run_at)
    tick(api.database, api.clock)
    found = api.get(f"/rest/v1/lead/{lead['id']}.json", fields="title")["result"]
    assert found[0]["title"] == "Second launch"


def test_a_copy_that_makes_a_name_ambiguous_is_refused(api: Api, tmp_path: Path) -> None:
    """API-21 / VAL-3: campaigns that call each other by bare name would have two targets
    after the copy: 709 naming REF_AMBIGUOUS, nothing written."""
    announce = _launch(api, tmp_path, "Stamp Title")
    body = api.post(
        f"/rest/v1/campaigns/{announce}/schedule.json",
        {"input": {"cloneToProgramName": "Launch 2"}},
    )
    assert error_code(body) == "709" and "REF_AMBIGUOUS" in body["errors"][0]["message"]
    programs = api.get("/rest/asset/v1/programs.json")["result"]
    assert "Launch 2" not in {p["name"] for p in programs}
    assert _scheduled(api) == []
