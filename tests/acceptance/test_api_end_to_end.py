"""Issue 7 end to end: a Marketo-style client drives `kampanj serve` over plain HTTP.

`kampanj serve` runs as a subprocess on 127.0.0.1 with its in-process worker; the test
talks to it only through an HTTP session (token, JSON bodies), the way an existing Marketo
integration does. Results the worker produces are awaited by polling the API until a
condition holds or a deadline passes.

The one thing HTTP cannot do is move time: REST `runAt` is never earlier than now + 5
minutes (API-20), so once the batch campaign is scheduled the test runs one scheduler tick
at the scheduled instant against the same database — what the server's worker does five
minutes later — and then reads the results through the API again.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app as cli
from kampanj.clock import FixedClock
from kampanj.engine.tick import tick
from kampanj.model.activities import StandardActivity
from kampanj.store.database import Database
from testsupport import free_port, kampanj_command

DEADLINE_SECONDS = 120.0  # generous: the machine may be loaded
POLL_SECONDS = 0.1
T = TypeVar("T")

# Events holds the campaigns; Library holds the executable child with its own tokens, so
# only a child running in its parent's token context sees Events' tokens and overrides.
WORLD = """\
workspace: Default
folders:
  - name: Marketing
    programs:
      - name: Events
        tokens:
          Event Name: {type: text, value: Default Event}
          Points: {type: score, value: "+5"}
        campaigns:
          - name: Form Follow-up
            active: true
            smartList:
              triggers:
                - Fills Out Form: {}
            flow:
              - Change Data Value: {attribute: Title, newValue: Filled}
          - name: Register
            active: true
            smartList:
              triggers:
                - Campaign is Requested: {Source: is Web Service API}
            schedule: {qualification: every time}
            flow:
              - Execute Campaign: {campaign: Stamp, useParentContext: true}
              - Execute Campaign: {campaign: Stamp, useParentContext: false}
          - name: Nightly
            smartList:
              filters:
                - Email Address: is not empty
            flow:
              - Execute Campaign: {campaign: Stamp, useParentContext: true}
              - Change Score: {scoreName: Lead Score, change: "{{my.Points}}"}
      - name: Library
        tokens:
          Event Name: {type: text, value: Library Event}
        campaigns:
          - name: Stamp
            executable: true
            schedule: {qualification: once}
            flow:
              - Change Data Value: {attribute: City, newValue: "{{my.Event Name}}"}
"""


def poll(what: str, probe: Callable[[], T | None]) -> T:
    """``probe()`` once it returns something other than None; fails after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(POLL_SECONDS)


@pytest.fixture
def server_log(tmp_path: Path) -> Path:
    """Everything `kampanj serve` writes to stdout and stderr."""
    return tmp_path / "serve.log"


@pytest.fixture
def server(database_url: str, server_log: Path) -> Iterator[str]:
    """`kampanj serve` with its in-process worker; yields the base URL once it answers."""
    port = free_port()
    log = server_log.open("w+b")
    process = subprocess.Popen(
        [
            *kampanj_command(),
            "serve",
            "--db",
            database_url,
            "--port",
            str(port),
            "--tick-seconds",
            "0.2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool | None:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"kampanj serve exited: {log.read().decode(errors='replace')}")
        try:
            return httpx.get(f"{base}/openapi.json", timeout=1.0).status_code == 200 or None
        except httpx.TransportError:
            return None

    try:
        poll("kampanj serve to answer", ready)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


class Marketo:
    """What a Marketo client library does: fetch a token, send it, check the envelope."""

    access_token: str

    def __init__(self, base: str, client_id: str, client_secret: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30.0)
        answer = self.http.get(
            "/identity/oauth/token",
            params={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            },
        )
        assert answer.status_code == 200, answer.text
        identity = answer.json()
        assert identity["token_type"] == "bearer" and identity["expires_in"] == 3599
        self.access_token = identity["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.access_token}"

    def call(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        answer = self.http.request(method, path, **options)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["success"] is True, body
        assert body["errors"] == []
        return body

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any) -> dict[str, Any]:
        return self.call("POST", path, json=body)


def _api_user(database_url: str) -> tuple[str, str]:
    created = CliRunner().invoke(
        cli,
        [
            *("api-user", "create", "integration", "--role", "execute_campaign"),
            *("--workspace", "*", "--db", database_url, "--json"),
        ],
    )
    assert created.exit_code == 0, created.output
    credentials = json.loads(created.stdout)
    return credentials["clientId"], credentials["clientSecret"]


def _lead(client: Marketo, email: str) -> dict[str, Any]:
    body = client.get(
        "/rest/v1/leads.json",
        filterType="email",
        filterValues=email,
        fields="id,email,title,city,leadScore",
    )
    (found,) = body["result"]
    return dict(found)


def _activities(client: Marketo, since: datetime, type_ids: list[int]) -> list[dict[str, Any]]:
    """Every activity of those types since ``since``, two per page (API-35, API-36)."""
    token = client.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=since.isoformat())[
        "nextPageToken"
    ]
    found: list[dict[str, Any]] = []
    pages = 0
    while True:
        page = client.get(
            "/rest/v1/activities.json",
            nextPageToken=token,
            activityTypeIds=",".join(str(t) for t in type_ids),
            batchSize=2,
        )
        pages += 1
        found.extend(page.get("result", []))
        token = page["nextPageToken"]  # always present (API-36)
        if not page["moreResult"]:
            break
    assert pages > 1 or len(found) <= 2
    return found


def _attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {a["name"]: a["value"] for a in item.get("attributes", [])}


def _executions(
    items: list[dict[str, Any]], lead_id: int, stamp_id: int
) -> list[tuple[bool, bool]]:
    """(Qualified, Use Parent Token Context) of the lead's Execute Campaign activities."""
    return [
        (attributes["Qualified"], attributes["Use Parent Token Context"])
        for item in items
        if item["leadId"] == lead_id
        and item["activityTypeId"] == StandardActivity.EXECUTE_CAMPAIGN
        and item["primaryAttributeValueId"] == stamp_id
        for attributes in [_attributes(item)]
    ]


def test_a_marketo_client_drives_kampanj_serve(
    database_url: str, server: str, server_log: Path
) -> None:
    """Issue 7: authenticate, upsert, form fill → trigger, request with overrides →
    parent-context child, schedule a batch, page activities, read folder tokens."""
    since = datetime.now(UTC) - timedelta(minutes=1)
    client_id, secret = _api_user(database_url)
    client = Marketo(server, client_id, secret)
    applied = client.post("/kampanj/v1/apply", {"files": {"events.yaml": WORLD}})
    assert applied["result"][0]["errors"] == 0, applied

    # Upsert (API-28): two new leads, then an update of one of them.
    created = client.post(
        "/rest/v1/leads.json",
        {"input": [{"email": "ann@example.com"}, {"email": "bo@example.com", "leadScore": 1}]},
    )["result"]
    assert [item["status"] for item in created] == ["created", "created"]
    ann, bo = (item["id"] for item in created)
    updated = client.post(
        "/rest/v1/leads.json",
        {"action": "updateOnly", "input": [{"email": "ann@example.com", "firstName": "Ann"}]},
    )["result"]
    assert updated == [{"id": ann, "status": "updated"}]

    campaigns = {
        c["name"]: c
        for c in client.get("/rest/v1/campaigns.json", programName="Events,Library")["result"]
    }
    register, nightly = campaigns["Register"]["id"], campaigns["Nightly"]["id"]
    stamp = campaigns["Stamp"]["id"]
    triggerable = client.get("/rest/v1/campaigns.json", isTriggerable="true")["result"]
    assert [c["name"] for c in triggerable] == ["Register"]

    # A form fill (API-31) fires the trigger campaign Form Follow-up (ACT-6, CMP-14).
    form = client.post(
        "/rest/v1/leads/submitForm.json",
        {
            "formId": 1001,
            "input": [
                {
                    "leadFormFields": {"email": "ann@example.com", "firstName": "Ann"},
                    "visitorData": {"pageURL": "https://acme.example/register"},
                }
            ],
        },
    )
    assert form["result"] == [{"id": ann, "status": "updated"}]
    poll("the form fill's trigger run", lambda: _lead(client, "ann@example.com")["title"] or None)
    assert _lead(client, "ann@example.com")["title"] == "Filled"

    # Request Campaign with overrides (API-16..18, WX-4): the override reaches the child
    # that runs in the parent's token context; the second call of the once-only child
    # does not qualify.
    requested = client.post(
        f"/rest/v1/campaigns/{register}/trigger.json",
        {
            "input": {
                "leads": [{"id": ann}, {"id": ann}, {"id": 999_999}],
                "tokens": [
                    {"name": "{{my.Event Name}}", "value": "Summit 2026"},
                    {"name": "{{my.Nope}}", "value": "x"},
                ],
            }
        },
    )
    (item,) = requested["result"]
    assert item["id"] == register and isinstance(item["runId"], int)
    assert sorted(w["code"] for w in requested["warnings"]) == [1003, 1004, 1036]
    poll("the requested run", lambda: _lead(client, "ann@example.com")["city"] or None)
    assert _lead(client, "ann@example.com")["city"] == "Summit 2026"
    run = poll(
        "the requested run to complete",
        lambda: next(
            (
                r
                for r in client.get(f"/kampanj/v1/runs/{item['runId']}")["result"]
                if r["status"] == "completed"
            ),
            None,
        ),
    )
    assert run["campaignId"] == register

    # Schedule the batch campaign (API-19, API-20) with a per-run override.
    run_at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    scheduled = client.post(
        f"/rest/v1/campaigns/{nightly}/schedule.json",
        {"input": {"runAt": run_at.isoformat(), "tokens": [{"name": "my.Points", "value": "+7"}]}},
    )
    assert scheduled["result"][0]["id"] == nightly and scheduled["warnings"] == []
    database = Database(database_url)
    try:
        tick(database, FixedClock(run_at + timedelta(seconds=1)))  # the worker, 10 minutes on
    finally:
        database.dispose()
    assert _lead(client, "bo@example.com")["leadScore"] == 8
    assert _lead(client, "ann@example.com")["leadScore"] == 7
    assert _lead(client, "bo@example.com")["city"] == "Default Event"

    # Page through the activities (API-35, API-36): Execute Campaign Qualified true and
    # false, in and out of the parent's token context.
    items = _activities(
        client,
        since,
        [
            StandardActivity.FILL_OUT_FORM,
            StandardActivity.REQUEST_CAMPAIGN,
            StandardActivity.EXECUTE_CAMPAIGN,
            StandardActivity.CHANGE_SCORE,
        ],
    )
    ids = [i["id"] for i in items]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert _executions(items, ann, stamp) == [(True, True), (False, False), (False, True)]
    assert _executions(items, bo, stamp) == [(True, True)]
    requests = [
        i
        for i in items
        if i["activityTypeId"] == StandardActivity.REQUEST_CAMPAIGN and i["leadId"] == ann
    ]
    assert len(requests) == 1 and _attributes(requests[0])["Source"] == "Web Service API"
    assert any(
        i["activityTypeId"] == StandardActivity.FILL_OUT_FORM and i["leadId"] == ann for i in items
    )

    # The tokens of a folder (API-40): Events' own, sorted by name.
    programs = client.get("/rest/asset/v1/programs.json", maxReturn=200)["result"]
    events = next(p for p in programs if p["name"] == "Events")
    tokens = client.get(f"/rest/asset/v1/folder/{events['id']}/tokens.json", folderType="Program")
    (folder,) = tokens["result"]
    assert folder["folder"] == {"type": "Program", "value": events["id"]}
    assert [(t["name"], t["value"], t["status"]) for t in folder["tokens"]] == [
        ("Event Name", "Default Event", "local"),
        ("Points", "+5", "local"),
    ]

    # API-8: neither the secret nor the access token reaches the server's output, also
    # when they travel in query strings and a call fails.
    client.http.get("/rest/v1/nothing.json", params={"client_secret": secret})
    client.http.get("/rest/v1/leads.json", params={"access_token": client.access_token})
    output = server_log.read_text(encoding="utf-8", errors="replace")
    assert secret not in output and client.access_token not in output
