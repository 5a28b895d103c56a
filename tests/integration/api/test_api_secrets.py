"""Secrets are stored hashed and never returned or logged (API-8)."""

from __future__ import annotations

import json
import logging

import pytest
from apisupport import Api
from sqlalchemy import select
from typer.testing import CliRunner

from kampanj.api.users import secret_matches
from kampanj.cli.app import app
from kampanj.store.schema import api_user

runner = CliRunner()


def test_secret_is_hashed_and_never_echoed(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client_id, secret = api.user("svc")
    with api.database.read() as connection:
        row = connection.execute(select(api_user)).one()
    assert secret not in json.dumps(dict(row._mapping), default=str)
    assert row.secret_hash.startswith("scrypt$") and secret_matches(secret, row.secret_hash)
    params = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    answers = [
        api.client.get("/identity/oauth/token", params=params),
        api.client.get("/identity/oauth/token", params={**params, "client_secret": "x"}),
        api.client.get("/rest/v1/nothing.json", params=params),
    ]
    for answer in answers:
        assert secret not in answer.text
    server_logs = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert not [line for line in server_logs if secret in line]  # httpx is the test client


def test_cli_prints_the_secret_once_and_list_never(database_url: str) -> None:
    created = runner.invoke(
        app,
        [
            "api-user",
            "create",
            "svc",
            "--role",
            "read_only",
            "--workspace",
            "*",
            "--db",
            database_url,
            "--json",
        ],
    )
    assert created.exit_code == 0, created.output
    document = json.loads(created.stdout)
    secret = document["clientSecret"]
    assert document["workspaces"] == ["*"] and document["role"] == "read_only"
    listed = runner.invoke(app, ["api-user", "list", "--db", database_url, "--json"])
    assert listed.exit_code == 0
    assert secret not in listed.stdout
    (user,) = json.loads(listed.stdout)["apiUsers"]
    assert user["clientId"] == document["clientId"] and "clientSecret" not in user


def test_cli_refuses_unknown_workspace_and_duplicate_name(database_url: str) -> None:
    base = ["api-user", "create", "svc", "--role", "read_write", "--db", database_url]
    unknown = runner.invoke(app, [*base, "--workspace", "Nowhere"])
    assert unknown.exit_code == 1 and "Nowhere" in unknown.stderr
    assert runner.invoke(app, [*base, "--workspace", "default"]).exit_code == 0
    again = runner.invoke(app, [*base, "--workspace", "Default"])
    assert again.exit_code == 1 and "already" in again.stderr
