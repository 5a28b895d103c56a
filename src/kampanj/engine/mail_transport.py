"""Mail transports for email and alert outbox rows (MAIL-9).

``send(message, idempotency_key) -> message id``; a failure raises `MailTransportError`.
The default transport is the outbox table itself: the rendered message stays in the row,
which is marked ``sent`` with the message id the step derived from its ledger key, so a
lookup after a crash always knows the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from kampanj.engine.steps.email import message_id


class MailTransportError(Exception):
    """The transport refused the message (MAIL-9 ``EMAIL_TRANSPORT``)."""


class MailTransport(Protocol):
    def send(self, message: Mapping[str, Any], idempotency_key: str) -> str: ...


@runtime_checkable
class MailLookup(Protocol):
    def lookup(self, key: str) -> str | None:
        """The message id of the message sent with ``key``, or None if it never was."""
        ...


class OutboxMailTransport:
    """MAIL-9 default: the outbox row is the delivered message."""

    def send(self, message: Mapping[str, Any], idempotency_key: str) -> str:
        return str(message.get("messageId") or message_id(idempotency_key))

    def lookup(self, key: str) -> str | None:
        return message_id(key)
