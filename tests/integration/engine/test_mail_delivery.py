"""Email and alert outbox rows through a mail transport (MAIL-9, LEDG-3)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from webhooksupport import T0, activities, build, hook_yaml, outbox_rows, run_row, run_step

from kampanj.clock import FixedClock
from kampanj.engine.delivery import Transports, deliver
from kampanj.engine.mail_transport import SMTP_URL_ENV, MailTransportError
from kampanj.engine.steps.email import message_id
from kampanj.store.database import Database
from kampanj.store.outbox_repo import OutboxIntent, OutboxKind, insert_intents

LATER = FixedClock(T0 + timedelta(seconds=5))
AFTER_LEASE = FixedClock(T0 + timedelta(hours=1))


class Crash(BaseException):
    """Stands in for a worker dying during the hand-off."""


class Recording:
    def __init__(self, fail: bool = False, crash: bool = False) -> None:
        self.sent: list[tuple[str, Mapping[str, Any]]] = []
        self.fail, self.crash = fail, crash

    def send(self, message: Mapping[str, Any], idempotency_key: str) -> str:
        if self.crash:
            raise Crash
        if self.fail:
            raise MailTransportError("relay refused: 550 mailbox unavailable")
        self.sent.append((idempotency_key, message))
        return f"m-{idempotency_key}"


def _mail(database: Database, run_id: int | None) -> None:
    with database.begin() as connection:
        insert_intents(
            connection,
            [
                OutboxIntent(
                    ledger_key=f"{run_id}:1:s9",
                    kind=OutboxKind.EMAIL,
                    payload={
                        "to": ["p1@x.com"],
                        "subject": "Hi",
                        "email": "Hello",
                        "emailId": 7,
                        "activity": {"Campaign": "T", "Step ID": "s9"},
                    },
                    run_id=run_id,
                    person_id=1,
                ),
            ],
            T0,
        )


@pytest.fixture
def run_id(database: Database, tmp_path: Path) -> int:
    build(database, tmp_path, hook_yaml("https://hooks.example/x"), [{}])
    found, _ = run_step(database, [])
    return found


def test_transport_gets_the_key_once(database: Database, run_id: int) -> None:
    _mail(database, run_id)
    transport = Recording()
    deliver(database, LATER, Transports(mail=transport))
    deliver(database, LATER, Transports(mail=transport))
    assert [key for key, _m in transport.sent] == [f"{run_id}:1:s9"]
    [row] = outbox_rows(database)
    assert (row["state"], row["message_id"]) == ("sent", f"m-{run_id}:1:s9")
    assert _sends(database) == [(1, "Hello", 7, run_id, {"Campaign": "T", "Step ID": "s9"})]


def _sends(database: Database) -> list[tuple[Any, ...]]:
    """Send Email (6) activities: person, email, email id, run, attributes."""
    return [
        (
            a.person_id,
            a.primary_attribute_value,
            a.primary_attribute_value_id,
            a.run_id,
            a.attributes,
        )
        for a in activities(database, 6)
    ]


def test_no_send_email_before_delivery(database: Database, run_id: int) -> None:
    """MAIL-9: the intent alone is no send; delivery writes Send Email (6) once."""
    _mail(database, run_id)
    assert _sends(database) == []
    deliver(database, LATER)
    deliver(database, LATER)
    assert [s[:2] for s in _sends(database)] == [(1, "Hello")]


def test_transport_failure_is_email_transport(database: Database, run_id: int) -> None:
    """MAIL-9: a refusal leaves the row failed with the error and the run error."""
    _mail(database, run_id)
    deliver(database, LATER, Transports(mail=Recording(fail=True)))
    [row] = outbox_rows(database)
    assert row["state"] == "failed" and "550" in row["error"]
    errors = run_row(database, run_id)["errors"]
    assert [e["code"] for e in errors] == ["EMAIL_TRANSPORT"]
    assert _sends(database) == []  # MAIL-9: a refused message writes no Send Email


def test_crash_without_lookup_is_unknown(database: Database, run_id: int) -> None:
    """LEDG-3: no lookup → unknown, never handed over again."""
    _mail(database, run_id)
    with pytest.raises(Crash):
        deliver(database, LATER, Transports(mail=Recording(crash=True)))
    assert _sends(database) == []  # claimed, outcome not recorded: no send claimed yet
    later = Recording()
    deliver(database, AFTER_LEASE, Transports(mail=later))
    assert later.sent == [] and outbox_rows(database)[0]["state"] == "unknown"
    # MAIL-9, LEDG-3: the message may have gone out: Send Email says the outcome is unknown
    attributes = {"Campaign": "T", "Step ID": "s9", "Outcome": "unknown"}
    assert _sends(database) == [(1, "Hello", 7, run_id, attributes)]


def test_crash_with_the_default_transport_is_resolved_by_lookup(
    database: Database, run_id: int
) -> None:
    """The default (outbox) transport's lookup knows the message id: sent, once."""
    _mail(database, run_id)
    with pytest.raises(Crash):
        deliver(database, LATER, Transports(mail=Recording(crash=True)))
    deliver(database, AFTER_LEASE)
    [row] = outbox_rows(database)
    assert row["state"] == "sent" and row["attempts"] == 1 and row["message_id"]
    assert [s[:2] + s[4:] for s in _sends(database)] == [
        (1, "Hello", {"Campaign": "T", "Step ID": "s9"})
    ]


def test_default_transport_settles_in_batches_within_the_limit(database: Database) -> None:
    """The outbox transport marks rows sent in batches, oldest first, at most ``limit``."""
    keys = [f"9:{n}:s1" for n in range(1, 2502)]
    with database.begin() as connection:
        insert_intents(
            connection,
            [OutboxIntent(ledger_key=k, kind=OutboxKind.ALERT, payload={}) for k in keys],
            T0,
        )
    first = deliver(database, LATER, limit=1200)
    assert [row["ledgerKey"] for row in first.rows] == keys[:1200]
    rest = deliver(database, LATER)
    assert [row["ledgerKey"] for row in rest.rows] == keys[1200:]
    assert deliver(database, LATER).rows == []
    rows = outbox_rows(database)
    assert {(r["state"], r["attempts"]) for r in rows} == {("sent", 1)}
    assert [r["message_id"] for r in rows] == [message_id(k) for k in keys]


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: every command is accepted, DATA is kept."""

    received: list[bytes]

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._say("220 test ready")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command == "DATA":
                self._say("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.received.append(data)
                self._say("250 queued")
            elif command == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[bytes]]]:
    received: list[bytes] = []
    handler = type("Handler", (_Smtp,), {"received": received})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_smtp_transport_from_the_environment(
    database: Database,
    run_id: int,
    smtp_server: tuple[int, list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MAIL-9: KAMPANJ_SMTP_URL sends over SMTP with Message-ID and the ledger key."""
    port, received = smtp_server
    monkeypatch.setenv(SMTP_URL_ENV, f"smtp://127.0.0.1:{port}")
    _mail(database, run_id)
    deliver(database, LATER)
    deliver(database, LATER)
    [data] = received
    text = data.decode()
    assert f"X-Kampanj-Ledger-Key: {run_id}:1:s9" in text and "Subject: Hi" in text
    [row] = outbox_rows(database)
    assert row["state"] == "sent" and f"<{row['message_id']}@kampanj>" in text


def test_smtp_refusal_is_email_transport(
    database: Database, run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv(SMTP_URL_ENV, f"smtp://127.0.0.1:{port}")
    _mail(database, run_id)
    deliver(database, LATER)
    [row] = outbox_rows(database)
    assert row["state"] == "failed" and row["error"].startswith("SMTP 127.0.0.1")
    assert [e["code"] for e in run_row(database, run_id)["errors"]] == ["EMAIL_TRANSPORT"]
