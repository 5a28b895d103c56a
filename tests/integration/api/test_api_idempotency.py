"""Idempotency-Key on REST and native writes (LEDG-6, LIM-26)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from apisupport import Api, error_code
from sqlalchemy import func, select

from kampanj.store.schema import activity, api_idempotency, person, scheduled_run


def _post(api: Api, path: str, body: Any, key: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token or api.token()}", "Idempotency-Key": key}
    answer = api.client.post(path, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _count(api: Api, table: Any) -> int:
    with api.database.read() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_repeat_returns_the_first_response_and_does_nothing(api: Api) -> None:
    """LEDG-6: same key and body → the first response, nothing written again."""
    body = {"input": [{"email": "ann@example.com", "firstName": "Ann"}]}
    first = _post(api, "/rest/v1/leads.json", body, "k-1")
    activities = _count(api, activity)
    again = _post(api, "/rest/v1/leads.json", body, "k-1")
    assert again == first  # the very same response, requestId included
    assert first["result"][0]["status"] == "created"
    assert _count(api, activity) == activities and _count(api, person) == 1
    fresh = _post(api, "/rest/v1/leads.json", body, "k-2")
    assert fresh["result"][0]["status"] == "updated"  # another key runs again


def test_same_key_other_body_is_709(api: Api) -> None:
    """LEDG-6: the key names one request; another body or endpoint with it → 709."""
    _post(api, "/rest/v1/leads.json", {"input": [{"email": "a@example.com"}]}, "k")
    other = _post(api, "/rest/v1/leads.json", {"input": [{"email": "b@example.com"}]}, "k")
    assert error_code(other) == "709"
    nightly = api.ids("campaign")["Nightly"]
    assert error_code(_post(api, f"/rest/v1/campaigns/{nightly}/schedule.json", {}, "k")) == "709"
    assert _count(api, person) == 1 and _count(api, scheduled_run) == 0


def test_keys_are_per_api_user_and_expire_after_24_hours(api: Api) -> None:
    """LIM-26: another API user's key is another key; after 24 h the key runs again."""
    nightly = api.ids("campaign")["Nightly"]
    path = f"/rest/v1/campaigns/{nightly}/schedule.json"
    first = _post(api, path, {}, "nightly")
    assert _post(api, path, {}, "nightly", token=api.token("other")) != first
    assert _count(api, scheduled_run) == 2
    aged = api.clock.now() - timedelta(hours=24, seconds=1)  # as if sent a day ago
    with api.database.begin() as connection:
        connection.execute(api_idempotency.update().values(created_at=aged))
    later = _post(api, path, {}, "nightly")
    assert later["result"][0]["scheduledRunId"] != first["result"][0]["scheduledRunId"]
    assert _count(api, scheduled_run) == 3


def test_trigger_and_native_apply_replay(api: Api) -> None:
    """LEDG-6 on trigger.json and a native write (apply)."""
    (lead,) = api.post("/rest/v1/leads.json", {"input": [{"email": "a@example.com"}]})["result"]
    register = api.ids("campaign")["Register"]
    body = {"input": {"leads": [{"id": lead["id"]}]}}
    first = _post(api, f"/rest/v1/campaigns/{register}/trigger.json", body, "t")
    requests = _count(api, activity)
    assert _post(api, f"/rest/v1/campaigns/{register}/trigger.json", body, "t") == first
    assert _count(api, activity) == requests
    files = {
        "files": {
            "l.yaml": "workspace: Default\nfolders:\n  - name: M\n    lists:\n      - name: L\n"
        }
    }
    applied = _post(api, "/kampanj/v1/apply", files, "a")
    assert _post(api, "/kampanj/v1/apply", files, "a") == applied


def test_failed_calls_are_not_kept_and_bad_keys_refused(api: Api) -> None:
    """A response-level error wrote nothing (API-6): the key stays free; a blank or
    overlong key → 1003."""
    assert error_code(_post(api, "/rest/v1/leads.json", {"input": []}, "f")) == "701"
    assert _count(api, api_idempotency) == 0
    ok = _post(api, "/rest/v1/leads.json", {"input": [{"email": "a@example.com"}]}, "f")
    assert ok["success"] is True
    assert error_code(_post(api, "/rest/v1/leads.json", {"input": []}, "x" * 256)) == "1003"
    assert error_code(_post(api, "/rest/v1/leads.json", {"input": []}, " ")) == "1003"


def test_a_call_in_progress_is_713(api: Api) -> None:
    """LEDG-6: a claimed key without a stored response (the first call is still running
    or died) is never run twice: 713."""
    body = {"input": [{"email": "a@example.com"}]}
    _post(api, "/rest/v1/leads.json", body, "p")
    with api.database.begin() as connection:
        connection.execute(api_idempotency.update().values(response=None))
    assert error_code(_post(api, "/rest/v1/leads.json", body, "p")) == "713"
    assert _count(api, person) == 1
