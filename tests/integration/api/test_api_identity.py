"""Identity, envelope, errors and roles (API-2..5, API-8, API-10, API-12, WS-5)."""

from __future__ import annotations

import re
from datetime import timedelta

from apisupport import Api, error_code

from kampanj.api.users import Role

TOKEN = "/identity/oauth/token"
REQUEST_ID = re.compile(r"^[0-9a-f]{4}#[0-9a-f]{11}$")


def _credentials(api: Api, name: str = "svc") -> dict[str, str]:
    client_id, secret = api.user(name)
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def test_token_shape_and_reuse_before_expiry(api: Api) -> None:
    """API-2/3: bearer token <uuid>:<account id>, 3599 s when fresh, same token until expiry."""
    params = _credentials(api)
    first = api.client.get(TOKEN, params=params)
    assert first.status_code == 200
    body = first.json()
    assert re.fullmatch(r"[0-9a-f-]{36}:kampanj", body["access_token"])
    assert body == {
        "access_token": body["access_token"],
        "token_type": "bearer",
        "expires_in": 3599,
        "scope": "svc@example.com",
    }
    api.clock.set(api.clock.now() + timedelta(seconds=600))
    again = api.client.post(TOKEN, data=params).json()  # form-encoded POST
    assert again["access_token"] == body["access_token"]
    assert again["expires_in"] == 2999
    api.clock.set(api.clock.now() + timedelta(seconds=3000))
    fresh = api.client.get(TOKEN, params=params).json()
    assert fresh["access_token"] != body["access_token"]
    assert fresh["expires_in"] == 3599


def test_tokens_of_different_users_are_independent(api: Api) -> None:
    """API-3."""
    one = api.client.get(TOKEN, params=_credentials(api, "one")).json()["access_token"]
    two = api.client.get(TOKEN, params=_credentials(api, "two")).json()["access_token"]
    assert one != two


def test_identity_errors_use_oauth_statuses(api: Api) -> None:
    """API-2: 401 bad credentials, 400 missing / unsupported grant type."""
    params = _credentials(api)
    wrong = api.client.get(TOKEN, params={**params, "client_secret": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "unauthorized", "error_description": "Bad client credentials"}
    missing = api.client.get(TOKEN, params={k: v for k, v in params.items() if k != "grant_type"})
    assert (missing.status_code, missing.json()) == (400, {"error": "invalid_request"})
    other = api.client.get(TOKEN, params={**params, "grant_type": "password"})
    assert (other.status_code, other.json()) == (400, {"error": "unsupported_grant_type"})


def test_envelope_on_success(api: Api) -> None:
    """API-5: requestId pattern, success, result, errors and warnings always present."""
    body = api.get("/rest/v1/campaigns.json")
    assert REQUEST_ID.match(body["requestId"])
    assert body["success"] is True
    assert body["errors"] == [] and body["warnings"] == []
    assert isinstance(body["result"], list)
    assert api.get("/rest/v1/campaigns.json")["requestId"] != body["requestId"]


def test_missing_unknown_forged_and_expired_tokens(api: Api) -> None:
    """API-4: 601 missing or unknown (forged), 602 expired; HTTP 200 (API-5)."""
    path = "/rest/v1/campaigns.json"
    assert error_code(api.client.get(path).json()) == "601"
    forged = "00000000-0000-0000-0000-000000000000:kampanj"
    answer = api.client.get(path, headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 200
    assert error_code(answer.json()) == "601"
    token = api.token()
    api.clock.set(api.clock.now() + timedelta(seconds=3600))
    assert error_code(api.client.get(path, params={"access_token": token}).json()) == "602"


def test_query_parameter_token_and_header_wins(api: Api) -> None:
    """API-4: access_token query parameter works; the header wins over it."""
    token = api.token()
    path = "/rest/v1/campaigns.json"
    assert api.client.get(path, params={"access_token": token}).json()["success"] is True
    answer = api.client.get(
        path, params={"access_token": token}, headers={"Authorization": "Bearer forged:kampanj"}
    )
    assert error_code(answer.json()) == "601"


def test_read_only_user_cannot_write(api: Api) -> None:
    """API-8: a write needs read_write → 603 for read_only, and nothing is written."""
    token = api.token("reader", Role.READ_ONLY)
    body = api.post("/rest/v1/leads.json", {"input": [{"email": "a@example.com"}]}, token=token)
    assert error_code(body) == "603"
    found = api.get("/rest/v1/leads.json", filterType="email", filterValues="a@example.com")
    assert found["result"] == []


def test_workspace_scoped_user_cannot_read_another_workspace(api: Api) -> None:
    """WS-5: addressing a campaign of workspace B → 603; lists show only workspace A."""
    token = api.token("emea", Role.READ_ONLY, ("EMEA",))
    campaigns = api.ids("campaign")
    body = api.get(f"/rest/v1/campaigns/{campaigns['Nightly']}.json", token=token)
    assert error_code(body) == "603"
    listed = api.get("/rest/v1/campaigns.json", token=token)["result"]
    assert [c["name"] for c in listed] == ["Emea Nightly"]
    asset = api.get(f"/rest/asset/v1/smartCampaign/{campaigns['Nightly']}.json", token=token)
    assert error_code(asset) == "603"


def test_unknown_path_wrong_method_content_type_and_json(api: Api) -> None:
    """API-1: 610 unknown path, 605 method, 612 content type, 609 invalid JSON."""
    headers = {"Authorization": f"Bearer {api.token()}"}
    assert error_code(api.client.get("/rest/v1/nothing.json", headers=headers).json()) == "610"
    assert error_code(api.client.put("/rest/v1/leads.json", headers=headers).json()) == "605"
    text = api.client.post(
        "/rest/v1/leads.json", content=b"{}", headers={**headers, "Content-Type": "text/plain"}
    )
    assert error_code(text.json()) == "612"
    broken = api.client.post(
        "/rest/v1/leads.json",
        content=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert error_code(broken.json()) == "609"


def test_oversized_uri_and_body(api: Api) -> None:
    """API-10: URI over 8 KB → HTTP 414, body over 1 MB → HTTP 413."""
    headers = {"Authorization": f"Bearer {api.token()}"}
    long = api.client.get("/rest/v1/campaigns.json", params={"name": "x" * 9000}, headers=headers)
    assert long.status_code == 414
    big = api.client.post(
        "/rest/v1/leads.json",
        content=b"[" + b"1," * 600_000 + b"1]",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert big.status_code == 413


def test_post_with_method_get_is_served_as_get(api: Api) -> None:
    """API-10: POST ?_method=GET with the query as a form body."""
    api.post("/rest/v1/leads.json", {"input": [{"email": "ann@example.com"}]})
    answer = api.client.post(
        "/rest/v1/leads.json",
        params={"_method": "GET"},
        data={"filterType": "email", "filterValues": "ann@example.com"},
        headers={"Authorization": f"Bearer {api.token()}"},
    )
    body = answer.json()
    assert body["success"] is True
    assert [lead["email"] for lead in body["result"]] == ["ann@example.com"]
