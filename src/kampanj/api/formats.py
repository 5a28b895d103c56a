"""Wire formats of values: timestamps (API-11), field values, paging tokens (API-7)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, date, datetime
from typing import Any

from kampanj.api.envelope import INVALID_DATE, INVALID_REQUEST, ApiError
from kampanj.model.conversions import json_value
from kampanj.model.people import FieldValue


def lead_time(value: datetime | None) -> str | None:
    """Lead Database timestamp ``yyyy-MM-ddTHH:mm:ssZ`` (UTC)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def asset_time(value: datetime | None) -> str | None:
    """Asset timestamp ``yyyy-MM-ddTHH:mm:ssZ+0000`` (API-11)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ+0000")


def parse_instant(text: str, name: str) -> datetime:
    """An ISO-8601 date-time with ``Z`` or an offset (a bare date is midnight UTC); else 704."""
    stripped = text.strip()
    try:
        value = datetime.fromisoformat(stripped)
    except ValueError:
        raise ApiError(INVALID_DATE, f"{name} {text!r} is not an ISO-8601 date-time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def field_json(value: FieldValue) -> Any:
    """A person field value as the Lead Database returns it."""
    if isinstance(value, datetime):
        return lead_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return json_value(value)


def encode_token(state: dict[str, Any]) -> str:
    """An opaque ``nextPageToken`` carrying ``state``."""
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_token(kind: str, position: int) -> str:
    """A ``nextPageToken`` of a ``kind`` endpoint continuing after ``position``."""
    return encode_token({"k": kind, "p": position})


def token_position(token: str | None, kind: str) -> int:
    """The position a `page_token` carries (0 without a token); 1003 for a forged one."""
    if not token:
        return 0
    position = decode_token(token, kind).get("p")
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise ApiError(INVALID_REQUEST, f"Invalid nextPageToken {token!r}")
    return position


def decode_token(token: str, kind: str) -> dict[str, Any]:
    """The state of a token made by `encode_token` for ``kind``; 1003 for anything else."""
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        state = None
    if not isinstance(state, dict) or state.get("k") != kind:
        raise ApiError(INVALID_REQUEST, f"Invalid nextPageToken {token!r}")
    return state
