"""The outbox: external effects as ledger rows, one per LEDG-1 key (LEDG-3, MAIL-9).

A step writes an ``intent`` row in its own transaction; a delivery worker (a later issue)
reads pending rows, hands each to its transport with the row's key and records the
outcome. The unique ledger key makes a second row for the same effect impossible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select, update

from kampanj.store.bulk import bulk_insert
from kampanj.store.schema import outbox


class OutboxKind(StrEnum):
    """What an outbox row hands off."""

    EMAIL = "email"
    ALERT = "alert"
    WEBHOOK = "webhook"


class OutboxState(StrEnum):
    """Where an outbox row is (LEDG-3)."""

    INTENT = "intent"
    """Written by the step; not handed to the transport yet."""
    CLAIMED = "claimed"
    """Taken by a delivery worker (committed before the call, ``delivered_at`` = the claim
    instant); a claimed row found stale after a crash is resolved, never called again."""
    SENT = "sent"
    """The transport accepted it (``message_id`` set)."""
    FAILED = "failed"
    """The transport refused it."""
    UNKNOWN = "unknown"
    """Recovered without a known outcome; never repeated."""


def ledger_key(run_id: int, entry_id: int, call_path: str) -> str:
    """``runId:entryId:callPath`` (LEDG-1)."""
    return f"{run_id}:{entry_id}:{call_path}"


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxIntent:
    """One effect to hand off, as a step writes it."""

    ledger_key: str
    """LEDG-1 key; unique."""
    kind: OutboxKind
    """Email, alert or webhook."""
    payload: Mapping[str, Any]
    """The rendered message or request."""
    run_id: int | None = None
    person_id: int | None = None
    campaign_id: int | None = None
    call_path: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxEntry:
    """A stored outbox row."""

    id: int
    ledger_key: str
    kind: OutboxKind
    state: OutboxState
    run_id: int | None
    person_id: int | None
    campaign_id: int | None
    call_path: str | None
    attempts: int
    message_id: str | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ledgerKey": self.ledger_key,
            "kind": self.kind.value,
            "state": self.state.value,
            "runId": self.run_id,
            "personId": self.person_id,
            "campaignId": self.campaign_id,
            "callPath": self.call_path,
            "attempts": self.attempts,
            "messageId": self.message_id,
            "error": self.error,
            "createdAt": self.created_at,
            "deliveredAt": self.delivered_at,
            "payload": dict(self.payload),
        }


_INTENT_COLUMNS = (
    "ledger_key",
    "kind",
    "run_id",
    "person_id",
    "campaign_id",
    "call_path",
    "payload",
)


def insert_intents(connection: Connection, intents: Sequence[OutboxIntent], now: datetime) -> None:
    """Append ``intent`` rows in one bulk insert (a repeated key violates the unique index)."""
    bulk_insert(
        connection,
        outbox,
        _INTENT_COLUMNS,
        [
            (
                i.ledger_key,
                i.kind.value,
                i.run_id,
                i.person_id,
                i.campaign_id,
                i.call_path,
                dict(i.payload),
            )
            for i in intents
        ],
        {"state": OutboxState.INTENT.value, "attempts": 0, "created_at": now},
    )


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        ledger_key=row.ledger_key,
        kind=OutboxKind(row.kind),
        state=OutboxState(row.state),
        run_id=row.run_id,
        person_id=row.person_id,
        campaign_id=row.campaign_id,
        call_path=row.call_path,
        attempts=row.attempts,
        message_id=row.message_id,
        error=row.error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        payload=dict(row.payload or {}),
    )


def list_entries(
    connection: Connection,
    *,
    state: OutboxState | None = None,
    run_id: int | None = None,
    limit: int | None = None,
) -> list[OutboxEntry]:
    """Outbox rows in id order, optionally of one state or run."""
    statement = select(outbox).order_by(outbox.c.id)
    if state is not None:
        statement = statement.where(outbox.c.state == state.value)
    if run_id is not None:
        statement = statement.where(outbox.c.run_id == run_id)
    if limit is not None:
        statement = statement.limit(limit)
    return [_entry(row) for row in connection.execute(statement)]


def list_pending(connection: Connection, limit: int | None = None) -> list[OutboxEntry]:
    """Rows not handed to a transport yet, oldest first."""
    return list_entries(connection, state=OutboxState.INTENT, limit=limit)


def mark_delivered(
    connection: Connection, entry_id: int, *, message_id: str, now: datetime
) -> bool:
    """Record the transport's acceptance of a pending row; False if it was not pending."""
    result = connection.execute(
        update(outbox)
        .where(outbox.c.id == entry_id, outbox.c.state == OutboxState.INTENT.value)
        .values(
            state=OutboxState.SENT.value,
            message_id=message_id,
            delivered_at=now,
            attempts=outbox.c.attempts + 1,
        )
    )
    return bool(result.rowcount)
