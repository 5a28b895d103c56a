"""Mail transports for email and alert outbox rows (MAIL-9).

``send(message, idempotency_key) -> message id``; a failure raises `MailTransportError`.
The default transport is the outbox table itself: the rendered message stays in the row,
which is marked ``sent`` with the message id the step derived from its ledger key, so a
lookup after a crash always knows the answer. With ``KAMPANJ_SMTP_URL`` set, messages go
out over SMTP (`SmtpMailTransport`).
"""

from __future__ import annotations

import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, unquote, urlsplit

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


SMTP_URL_ENV = "KAMPANJ_SMTP_URL"
"""``smtp://[user:password@]host[:port]`` (``smtps://`` for TLS, ``?starttls=true``): when
set, emails and alerts go out over SMTP instead of staying in the outbox (MAIL-9)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SmtpMailTransport:
    """Sends each message over SMTP; the ledger key travels as ``X-Kampanj-Ledger-Key`` and
    the message id as ``Message-ID``. SMTP cannot be asked what it received, so a crashed
    hand-off ends ``unknown`` (LEDG-3)."""

    host: str
    port: int = 25
    tls: bool = False
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpMailTransport:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"{SMTP_URL_ENV} must look like smtp://host:port, not {url!r}")
        query = {k.lower(): v.lower() for k, v in parse_qsl(parts.query)}
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            tls=tls,
            starttls=query.get("starttls") in ("1", "true", "yes"),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def send(self, message: Mapping[str, Any], idempotency_key: str) -> str:
        identifier = str(message.get("messageId") or message_id(idempotency_key))
        mail = _compose(message, identifier, idempotency_key)
        opened = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        try:
            with opened(self.host, self.port, timeout=self.timeout) as client:
                if self.starttls:
                    client.starttls()
                if self.user is not None:
                    client.login(self.user, self.password or "")
                client.send_message(
                    mail,
                    from_addr=str(message.get("fromEmail") or ""),
                    to_addrs=[str(address) for address in message.get("to") or []],
                )
        except (smtplib.SMTPException, OSError, ValueError) as error:
            raise MailTransportError(f"SMTP {self.host}:{self.port}: {error}") from error
        return identifier


def _compose(message: Mapping[str, Any], identifier: str, key: str) -> EmailMessage:
    mail = EmailMessage()
    sender = str(message.get("fromEmail") or "")
    name = str(message.get("fromName") or "")
    mail["From"] = formataddr((name, sender)) if name else sender
    mail["To"] = ", ".join(str(address) for address in message.get("to") or [])
    if message.get("replyTo"):
        mail["Reply-To"] = str(message["replyTo"])
    mail["Subject"] = str(message.get("subject") or "")
    mail["Message-ID"] = f"<{identifier}@kampanj>"
    mail["X-Kampanj-Ledger-Key"] = key
    mail.set_content(str(message.get("text") or ""))
    if message.get("html"):
        mail.add_alternative(str(message["html"]), subtype="html")
    return mail


def mail_transport_from_env() -> MailTransport:
    """SMTP when ``KAMPANJ_SMTP_URL`` is set, else the outbox itself (MAIL-9 default)."""
    url = os.environ.get(SMTP_URL_ENV)
    return SmtpMailTransport.from_url(url) if url else OutboxMailTransport()
