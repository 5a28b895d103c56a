"""REST test worlds: a TestClient over a fresh database with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kampanj.api.users import Role, create_api_user
from kampanj.clock import FixedClock
from kampanj.services.apply import apply_paths
from kampanj.store.database import Database

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Two workspaces: Default with a program (tokens, a list, a smart list, a batch, a
# requestable trigger and an executable campaign) and EMEA with one campaign and list.
WORLD = """\
workspace: Default
activityTypes:
  - id: 100001
    name: Attend Event
    trigger: Attends Event
    filter: Attended Event
    primary: {name: Event Name, type: string}
    attributes:
      - {name: Minutes Attended, type: integer}
tokens:
  Root Note: {type: text, value: root}
folders:
  - name: Marketing
    tokens:
      Points: {type: score, value: "+5"}
    programs:
      - name: Events
        tokens:
          Points: {type: score, value: "+10"}
          Event Name: {type: text, value: Summit}
        lists:
          - name: Attendees
        smartLists:
          - name: Has Email
            filters:
              - Email Address: is not empty
        campaigns:
          - name: Nightly
            description: Batch scoring
            smartList:
              filters:
                - Lead Score: {at least: 0}
            flow:
              - Change Score: {scoreName: Lead Score, change: "+1"}
          - name: Register
            active: true
            smartList:
              triggers:
                - Campaign is Requested: {Source: is Web Service API}
            flow:
              - Change Data Value: {attribute: Title, newValue: Registered}
          - name: Stamp
            executable: true
            flow:
              - Change Data Value: {attribute: City, newValue: Stamped}
"""

OTHER = """\
workspace: EMEA
folders:
  - name: Regional
    lists:
      - name: EMEA Leads
    campaigns:
      - name: Emea Nightly
        smartList:
          filters:
            - Lead Score: {at least: 0}
        flow:
          - Change Score: {scoreName: Lead Score, change: "+1"}
"""

# Appended to WORLD (after its last campaign): a trigger campaign on its custom activity.
ATTENDANCE = """\
          - name: Attendance
            active: true
            smartList: {triggers: [Attends Event]}
            flow:
              - Change Data Value: {attribute: City, newValue: Attended}
"""


class Api:
    """A TestClient plus the database and clock behind it."""

    def __init__(self, database: Database, clock: FixedClock, client: TestClient) -> None:
        self.database = database
        self.clock = clock
        self.client = client
        self._tokens: dict[str, str] = {}

    def user(
        self, name: str, role: Role = Role.EXECUTE_CAMPAIGN, workspaces: tuple[str, ...] = ("*",)
    ) -> tuple[str, str]:
        """Create an API user; returns ``(client_id, client_secret)``."""
        with self.database.begin() as connection:
            created = create_api_user(
                connection,
                name=name,
                role=role,
                workspaces=workspaces,
                email=f"{name}@example.com",
                now=self.clock.now(),
            )
        return created.user.client_id, created.client_secret

    def token(
        self,
        name: str = "admin",
        role: Role = Role.EXECUTE_CAMPAIGN,
        workspaces: tuple[str, ...] = ("*",),
    ) -> str:
        """An access token of a (new or earlier) user called ``name``."""
        if name not in self._tokens:
            client_id, secret = self.user(name, role, workspaces)
            answer = self.client.get(
                "/identity/oauth/token",
                params={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
            assert answer.status_code == 200, answer.text
            self._tokens[name] = answer.json()["access_token"]
        return self._tokens[name]

    def get(self, path: str, token: str | None = None, **params: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        answer = self.client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def post(
        self, path: str, body: Any = None, token: str | None = None, **params: Any
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        answer = self.client.post(path, json=body, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def ids(self, kind: str) -> dict[str, int]:
        """Name → id of campaigns, lists, folders, smart lists."""
        from sqlalchemy import select

        from kampanj.store import schema

        table = {
            "campaign": schema.campaign,
            "list": schema.static_list,
            "folder": schema.folder,
            "smart_list": schema.smart_list,
        }[kind]
        with self.database.read() as connection:
            return {
                row.name: row.id for row in connection.execute(select(table.c.id, table.c.name))
            }


def apply_world(database: Database, tmp_path: Path, clock: FixedClock) -> None:
    paths = []
    for name, text in (("world.yaml", WORLD), ("other.yaml", OTHER)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    apply_paths(database, paths, clock=clock)


def error_code(body: dict[str, Any]) -> str:
    """The one response-level error code of a failed call (API-5)."""
    assert body["success"] is False, body
    assert "result" not in body
    (error,) = body["errors"]
    assert isinstance(error["code"], str)
    return str(error["code"])
