"""`kampanj deliver`: pending outbox rows handed to their transports once (LEDG-3, MAIL-9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.engine.steps.email import message_id
from kampanj.store.database import Database
from kampanj.store.outbox_repo import OutboxIntent, OutboxKind, insert_intents, list_entries

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_deliver_sends_mail_and_refuses_a_private_webhook(database: Database) -> None:
    """The default mail transport is the outbox (sent, message id from the key); a webhook to
    a private address is refused without a call (HOOK-4); a second pass does nothing."""
    with database.begin() as connection:
        insert_intents(
            connection,
            [
                OutboxIntent(ledger_key="1:1:s1", kind=OutboxKind.EMAIL, payload={"to": ["a@x"]}),
                OutboxIntent(ledger_key="1:1:s2", kind=OutboxKind.ALERT, payload={"to": ["b@x"]}),
                OutboxIntent(
                    ledger_key="1:1:s3",
                    kind=OutboxKind.WEBHOOK,
                    payload={"url": "http://10.0.0.1/x", "method": "GET", "headers": []},
                ),
            ],
            T0,
        )
    result = runner.invoke(app, ["deliver", "--db", database.url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["delivery"]
    assert (report["sent"], report["failed"], report["unknown"]) == (2, 1, 0)
    assert [(r["ledgerKey"], r["state"]) for r in report["rows"]] == [
        ("1:1:s1", "sent"),
        ("1:1:s2", "sent"),
        ("1:1:s3", "failed"),
    ]
    with database.read() as connection:
        entries = list_entries(connection)
    assert entries[0].message_id == message_id("1:1:s1")
    assert entries[2].error is not None and entries[2].error.startswith("Blocked Address")
    again = runner.invoke(app, ["deliver", "--db", database.url, "--json"])
    assert json.loads(again.stdout)["delivery"]["rows"] == []
    text = runner.invoke(app, ["deliver", "--db", database.url])
    assert text.exit_code == 0 and "0 sent, 0 failed, 0 unknown" in text.stdout
