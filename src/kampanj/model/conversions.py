"""Text (and JSON) to typed field values, and back (FLOW-13, FLOW-14, TOK-5).

One set of converters serves imports now and flow steps later: a value that a flow's
Change Data Value would refuse is refused by an import with the same message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Final

from kampanj.model.fields import SCORE_MAX, SCORE_MIN, FieldType
from kampanj.model.people import FieldValue

INTEGER_MIN = -(2**63)  # integer fields are BIGINT columns
INTEGER_MAX = 2**63 - 1
CURRENCY_SCALE = 4  # currency columns are NUMERIC(18, 4)
CURRENCY_LIMIT = 10**14  # 18 digits with 4 after the point leave 14 before it
MAX_STRING_LENGTH = 255  # string and email columns are VARCHAR(255); text is unbounded
CLEAR_TEXT = "NULL"  # FLOW-13: exactly this (uppercase) clears a field


class Directive(Enum):
    """What a cell says besides a value (FLOW-13)."""

    UNCHANGED = "unchanged"
    """Empty or whitespace-only text: leave the stored value alone."""
    CLEAR = "clear"
    """``NULL`` (or JSON null): empty the field."""


UNCHANGED: Final = Directive.UNCHANGED
CLEAR: Final = Directive.CLEAR

Converted = FieldValue | Directive
"""A converted cell: a value to store, or a directive."""


class ValueConversionError(ValueError):
    """A value that does not convert to its field's type (FLOW-14 ``INVALID_VALUE``)."""


_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOOLEANS: Final[dict[str, bool]] = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
}


def _integer(text: str, low: int, high: int, kind: str) -> int:
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise ValueConversionError(f"{text!r} is not an integer")
    value = int(stripped)
    if not low <= value <= high:
        raise ValueConversionError(f"{text!r} is outside the {kind} range {low}..{high}")
    return value


def parse_integer(text: str) -> int:
    """Optional sign and digits, within the 64-bit range of integer columns."""
    return _integer(text, INTEGER_MIN, INTEGER_MAX, "integer")


def parse_score(text: str) -> int:
    """An integer in the signed 32-bit range of score fields (overview §5, LIM-14)."""
    return _integer(text, SCORE_MIN, SCORE_MAX, "score")


def parse_float(text: str) -> float:
    """A decimal number (an exponent is accepted); never NaN or infinity."""
    stripped = text.strip()
    if not _DECIMAL.fullmatch(stripped):
        raise ValueConversionError(f"{text!r} is not a number")
    value = float(stripped)
    if not math.isfinite(value):
        raise ValueConversionError(f"{text!r} is too large")
    return value


def parse_currency(text: str) -> float:
    """A decimal number rounded to the 4 places a currency column keeps."""
    return _currency(parse_float(text), text)


def _currency(value: float, shown: object) -> float:
    if abs(value) >= CURRENCY_LIMIT:
        raise ValueConversionError(
            f"{shown!r} is too large for a currency field (at most {CURRENCY_LIMIT - 1})"
        )
    return round(value, CURRENCY_SCALE)


def parse_boolean(text: str) -> bool:
    """true/false, yes/no, 1/0, case-insensitively (GEN-7)."""
    value = _BOOLEANS.get(text.strip().lower())
    if value is None:
        raise ValueConversionError(f"{text!r} is not a boolean (use true, false, yes, no, 1 or 0)")
    return value


def parse_date(text: str) -> date:
    """A calendar date written ``yyyy-MM-dd``."""
    stripped = text.strip()
    if _DATE.fullmatch(stripped):
        try:
            return date.fromisoformat(stripped)
        except ValueError:
            pass
    raise ValueConversionError(f"{text!r} is not a date (expected yyyy-MM-dd)")


def parse_datetime(text: str, zone: tzinfo) -> datetime:
    """An ISO-8601 date-time; without an offset it is in the account time zone (GEN-1)."""
    stripped = text.strip()
    try:
        value = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueConversionError(
            f"{text!r} is not an ISO-8601 date-time (e.g. 2026-03-02T10:00:00 or "
            "2026-03-02T10:00:00+01:00)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _string(text: str) -> str:
    if len(text) > MAX_STRING_LENGTH:
        raise ValueConversionError(
            f"value is {len(text)} characters long; at most {MAX_STRING_LENGTH} are allowed"
        )
    return text


def _text(text: str) -> str:
    return text


TextParser = Callable[[str], FieldValue]


def text_parser(data_type: FieldType, zone: tzinfo) -> TextParser:
    """The converter of non-empty text to ``data_type`` (FLOW-14), ready to call per cell."""
    match data_type:
        case FieldType.STRING | FieldType.EMAIL:
            return _string
        case FieldType.TEXT:
            return _text
        case FieldType.INTEGER:
            return parse_integer
        case FieldType.SCORE:
            return parse_score
        case FieldType.FLOAT:
            return parse_float
        case FieldType.CURRENCY:
            return parse_currency
        case FieldType.BOOLEAN:
            return parse_boolean
        case FieldType.DATE:
            return parse_date
        case FieldType.DATETIME:
            return lambda text: parse_datetime(text, zone)


def convert_text(data_type: FieldType, text: str, zone: tzinfo) -> Converted:
    """Text → value or directive: blank leaves alone, ``NULL`` clears (FLOW-13), else FLOW-14."""
    if not text or text.isspace():
        return UNCHANGED
    if text == CLEAR_TEXT:
        return CLEAR
    return text_parser(data_type, zone)(text)


def convert_json(data_type: FieldType, value: object, zone: tzinfo) -> Converted:
    """A JSON value → value or directive; strings follow `convert_text`, null clears."""
    if value is None:
        return CLEAR
    if isinstance(value, str):
        return convert_text(data_type, value, zone)
    if isinstance(value, bool):
        if data_type is FieldType.BOOLEAN:
            return value
        raise ValueConversionError(f"{_json(value)} is a boolean, not {_article(data_type)}")
    if isinstance(value, int | float):
        return _json_number(data_type, value, zone)
    raise ValueConversionError(f"expected a single value, got {type(value).__name__} {value!r}")


def _json_number(data_type: FieldType, value: float, zone: tzinfo) -> FieldValue:
    if data_type in (FieldType.INTEGER, FieldType.SCORE):
        if isinstance(value, float) and not value.is_integer():
            raise ValueConversionError(f"{_json(value)} is not an integer")
        return text_parser(data_type, zone)(str(int(value)))
    if data_type is FieldType.FLOAT:
        if not math.isfinite(value):
            raise ValueConversionError(f"{value!r} is too large")
        return float(value)
    if data_type is FieldType.CURRENCY:
        return _currency(float(value), value)
    if data_type is FieldType.BOOLEAN and value in (0, 1):
        return bool(value)
    if data_type.is_textual:
        return text_parser(data_type, zone)(_json(value))
    raise ValueConversionError(f"{_json(value)} is a number, not {_article(data_type)}")


def _json(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _article(data_type: FieldType) -> str:
    return f"an {data_type.value}" if data_type.value[0] in "aeiou" else f"a {data_type.value}"


_EMAIL = re.compile(r"[^@\s]+@[^@\s]*[^@\s.]\.[^@\s.][^@\s]*")


def email_problem(text: str) -> str | None:
    """Why ``text`` is not a usable email address, or None.

    One ``@``, a non-empty local part, a domain with a dot between other characters, and
    no whitespace (the MAIL-4 notion of a syntactically valid address).
    """
    if _EMAIL.fullmatch(text):
        return None
    if any(c.isspace() for c in text):
        return f"{text!r} is not a valid email address (it contains whitespace)"
    return f"{text!r} is not a valid email address"


def format_value(value: FieldValue) -> str | None:
    """A stored value as text (TOK-5 formats, datetimes as ISO-8601 UTC); None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def json_value(value: FieldValue) -> str | int | float | bool | None:
    """A typed value in its JSON form: numbers and booleans bare, dates as ISO text."""
    if isinstance(value, datetime | date):
        return format_value(value)
    return value


ColumnParser = Callable[[tuple[str, ...]], tuple[FieldValue, ...]]
"""Converts a whole column of non-blank texts; raises if any cell does not convert."""


def column_parser(data_type: FieldType, zone: tzinfo) -> ColumnParser:
    """The converter of a column of non-empty texts to ``data_type`` (FLOW-14).

    Same results as `text_parser` per cell, but the common shapes (plain digits, the six
    boolean words, well-formed emails) are checked for the whole column at C speed. Raises
    `ValueConversionError` when any cell fails; callers then convert cell by cell to name
    the failing ones.
    """
    per_cell = text_parser(data_type, zone)
    match data_type:
        case FieldType.INTEGER | FieldType.SCORE:
            low, high = (
                (SCORE_MIN, SCORE_MAX)
                if data_type is FieldType.SCORE
                else (INTEGER_MIN, INTEGER_MAX)
            )

            def integers(texts: tuple[str, ...]) -> tuple[FieldValue, ...]:
                if all(map(_ASCII_DIGITS.fullmatch, texts)):
                    values = tuple(map(int, texts))
                    if values and (min(values) < low or max(values) > high):
                        raise ValueConversionError("out of range")
                    return values
                return tuple(map(per_cell, texts))

            return integers
        case FieldType.BOOLEAN:

            def booleans(texts: tuple[str, ...]) -> tuple[FieldValue, ...]:
                values = tuple(map(_BOOLEANS.get, map(str.lower, texts)))
                if None in values:
                    return tuple(map(per_cell, texts))
                return values

            return booleans
        case FieldType.EMAIL:

            def emails(texts: tuple[str, ...]) -> tuple[FieldValue, ...]:
                if max(map(len, texts), default=0) > MAX_STRING_LENGTH or not all(
                    map(_EMAIL.fullmatch, texts)
                ):
                    raise ValueConversionError("not every cell is a valid email address")
                return texts

            return emails
        case _:
            return lambda texts: tuple(map(per_cell, texts))


_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")
