"""`kampanj outbox`: listing the outbox (LEDG-3, MAIL-9) with --state, --run and --json."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.store.database import Database
from kampanj.store.outbox_repo import (
    OutboxIntent,
    OutboxKind,
    OutboxState,
    insert_intents,
    mark_delivered,
)

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _fill(database: Database) -> None:
    with database.begin() as connection:
        insert_intents(
            connection,
            [
                OutboxIntent(
                    ledger_key=f"{run}:{person}:s1",
                    kind=OutboxKind.EMAIL,
                    payload={"to": [f"p{person}@x.com"], "subject": "Hi"},
                    run_id=run,
                    person_id=person,
                )
                for run, person in ((1, 1), (1, 2), (2, 1))
            ],
            T0,
        )
        mark_delivered(connection, 1, message_id="m1", now=T0)


def test_outbox_lists_rows_by_state_and_run(database: Database) -> None:
    """--json prints one document; --state and --run filter; rows keep their ledger keys."""
    _fill(database)
    result = runner.invoke(app, ["outbox", "--db", database.url, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["outbox"]
    assert [(r["ledgerKey"], r["state"]) for r in rows] == [
        ("1:1:s1", "sent"),
        ("1:2:s1", "intent"),
        ("2:1:s1", "intent"),
    ]
    pending = runner.invoke(
        app, ["outbox", "--state", "intent", "--run", "1", "--db", database.url, "--json"]
    )
    assert [r["ledgerKey"] for r in json.loads(pending.stdout)["outbox"]] == ["1:2:s1"]
    text = runner.invoke(app, ["outbox", "--db", database.url])
    assert text.exit_code == 0 and "p2@x.com" in text.stdout and "3 row(s)" in text.stdout


def test_unknown_state_is_a_user_error(database: Database) -> None:
    """Exit 1 with a one-line message naming the accepted states."""
    result = runner.invoke(app, ["outbox", "--state", "lost", "--db", database.url, "--json"])
    assert result.exit_code == 1
    message = json.loads(result.stdout)["error"]
    assert "'lost'" in message and all(s.value in message for s in OutboxState)
