"""POST /rest/v1/campaigns/{id}/schedule.json (API-19, API-20, TOK-16..17)."""

from __future__ import annotations

from datetime import timedelta

from apisupport import Api, error_code
from sqlalchemy import select

from kampanj.api.users import Role
from kampanj.engine.tick import tick
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
