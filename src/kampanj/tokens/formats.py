"""Values as token text (TOK-5, TOK-7) and the encoding hooks (MAIL-8, HOOK-3)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from urllib.parse import quote

from kampanj.model.assets import TokenEncoding
from kampanj.model.conversions import format_value
from kampanj.model.fields import FieldType
from kampanj.model.people import FieldValue

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # yyyy-MM-dd HH:mm:ss (TOK-5, TOK-7)


class ValueKind(StrEnum):
    """What an inserted value is, for encoders that treat numbers differently (HOOK-3)."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"


def kind_of(data_type: FieldType) -> ValueKind:
    if data_type.is_numeric:
        return ValueKind.NUMBER
    if data_type is FieldType.BOOLEAN:
        return ValueKind.BOOLEAN
    return ValueKind.TEXT


def decimal_text(value: float | Decimal) -> str:
    """Shortest round-trip decimal, positional, without a trailing ``.0`` (TOK-5)."""
    number = Decimal(repr(value)) if isinstance(value, float) else value
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def field_text(value: FieldValue | Decimal, data_type: FieldType, zone: tzinfo) -> str | None:
    """A stored field value as token text (TOK-5); None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        instant = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return instant.astimezone(zone).strftime(DATETIME_FORMAT)
    if isinstance(value, float | Decimal) and not isinstance(value, bool):
        if data_type in (FieldType.INTEGER, FieldType.SCORE):
            return str(int(value))
        return decimal_text(value)
    if data_type is FieldType.BOOLEAN and isinstance(value, int):
        return "true" if value else "false"
    return format_value(value)


def field_formatter(data_type: FieldType, zone: tzinfo) -> Callable[[object], str | None]:
    """`field_text` for one field, with a fast path for text columns (bulk rendering)."""
    if data_type.is_textual:
        return lambda value: None if value is None else str(value)
    return lambda value: field_text(value, data_type, zone)  # type: ignore[arg-type]


def system_date(instant: datetime, zone: tzinfo) -> str:
    """``MMM dd, yyyy`` in the account time zone, English month names (TOK-7)."""
    local = instant.astimezone(zone)
    return f"{_MONTHS[local.month - 1]} {local.day:02d}, {local.year:04d}"


def system_time(instant: datetime, zone: tzinfo) -> str:
    """``hh:mm a (GMT ±hhmm)`` in the account time zone (TOK-7)."""
    local = instant.astimezone(zone)
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    offset = local.utcoffset()
    minutes = 0 if offset is None else int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{hour:02d}:{local.minute:02d} {half} (GMT {sign}{minutes // 60:02d}{minutes % 60:02d})"


def system_datetime(instant: datetime, zone: tzinfo) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in the account time zone (TOK-7)."""
    return instant.astimezone(zone).strftime(DATETIME_FORMAT)


# -- encoders: (value, kind, from an HTML-encoded field) → inserted text ---------------

Encoder = Callable[[str, ValueKind, bool], str]
"""How a resolved value is inserted: MAIL-8 HTML escaping, HOOK-3 JSON / form encoding."""


def no_encoding(value: str, kind: ValueKind, html_field: bool) -> str:
    """Insert values as they are (text parts, webhook encoding ``None``)."""
    return value


def html_email_encoding(value: str, kind: ValueKind, html_field: bool) -> str:
    """HTML parts: escape values of fields with ``isHtmlEncodingInEmail`` only (MAIL-8)."""
    return html.escape(value, quote=True) if html_field else value


_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def json_encoding(value: str, kind: ValueKind, html_field: bool) -> str:
    """Strings JSON-escaped in double quotes, numbers and booleans bare (HOOK-3).

    A value that is not a valid JSON number or boolean (``+10``, an empty score) is sent
    as a string, so the payload stays valid JSON.
    """
    if kind is ValueKind.NUMBER and _JSON_NUMBER.fullmatch(value):
        return value
    if kind is ValueKind.BOOLEAN and value in ("true", "false"):
        return value
    return json.dumps(value, ensure_ascii=False)


def form_encoding(value: str, kind: ValueKind, html_field: bool) -> str:
    """Percent-encoded, every reserved character included (HOOK-3 ``Form/Url``)."""
    return quote(value, safe="")


def webhook_encoder(encoding: TokenEncoding) -> Encoder:
    """The encoder of a webhook's ``requestTokenEncoding`` (HOOK-3)."""
    match encoding:
        case TokenEncoding.JSON:
            return json_encoding
        case TokenEncoding.FORM_URL:
            return form_encoding
        case TokenEncoding.NONE:
            return no_encoding
