"""FLOW-13 / FLOW-14 conversions of text and JSON values to field types."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kampanj.model.conversions import (
    CLEAR,
    UNCHANGED,
    ValueConversionError,
    convert_json,
    convert_text,
    email_problem,
    format_value,
    parse_boolean,
    parse_currency,
    parse_date,
    parse_datetime,
    parse_float,
    parse_integer,
    parse_score,
)
from kampanj.model.fields import SCORE_MAX, SCORE_MIN, FieldType

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize(("text", "expected"), [("42", 42), ("+7", 7), ("-3", -3), (" 5 ", 5)])
def test_integer_accepts_optional_sign_and_digits(text: str, expected: int) -> None:
    """FLOW-14: integer = optional sign, digits."""
    assert parse_integer(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.5", "1_000", "", "--1", "１２"])
def test_integer_rejects_everything_else(text: str) -> None:
    """FLOW-14: anything else is INVALID_VALUE with the value named."""
    with pytest.raises(ValueConversionError, match="is not an integer"):
        parse_integer(text)


def test_score_is_limited_to_32_bits() -> None:
    """FLOW-14, LIM-14: score = integer in the signed 32-bit range."""
    assert parse_score(str(SCORE_MAX)) == SCORE_MAX
    assert parse_score(str(SCORE_MIN)) == SCORE_MIN
    with pytest.raises(ValueConversionError, match="outside the score range"):
        parse_score(str(SCORE_MAX + 1))
    with pytest.raises(ValueConversionError, match="outside the score range"):
        parse_score(str(SCORE_MIN - 1))


@given(st.integers(min_value=SCORE_MIN, max_value=SCORE_MAX))
def test_score_round_trips_through_text(value: int) -> None:
    """FLOW-14: every 32-bit score survives format → parse."""
    assert parse_score(format_value(value) or "") == value


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integer_round_trips_through_text(value: int) -> None:
    """FLOW-14: integers round-trip within the 64-bit column range."""
    assert parse_integer(str(value)) == value


@pytest.mark.parametrize(("text", "expected"), [("1.5", 1.5), ("-2", -2.0), (".5", 0.5)])
def test_float_accepts_decimals(text: str, expected: float) -> None:
    """FLOW-14: float = decimal."""
    assert parse_float(text) == expected


@pytest.mark.parametrize("text", ["nan", "inf", "1,5", "x"])
def test_float_rejects_non_decimals(text: str) -> None:
    """FLOW-14: NaN, infinity and other text are not numbers."""
    with pytest.raises(ValueConversionError, match="is not a number"):
        parse_float(text)


def test_currency_keeps_four_places() -> None:
    """FLOW-14: currency is decimal; stored with the column's 4 places."""
    assert parse_currency("12.34567") == 12.3457


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("FALSE", False), ("yes", True), ("No", False), ("1", True), ("0", False)],
)
def test_boolean_words(text: str, expected: bool) -> None:
    """FLOW-14: boolean = true/false/yes/no/1/0 (case-insensitive, GEN-7)."""
    assert parse_boolean(text) is expected


def test_boolean_rejects_other_words() -> None:
    """FLOW-14: the message lists the accepted words."""
    with pytest.raises(ValueConversionError, match="use true, false, yes, no, 1 or 0"):
        parse_boolean("maybe")


def test_date_is_yyyy_mm_dd() -> None:
    """FLOW-14: date = yyyy-MM-dd."""
    assert parse_date("2026-03-02") == date(2026, 3, 2)
    for bad in ("02/03/2026", "2026-02-30", "2026-3-2"):
        with pytest.raises(ValueConversionError, match="expected yyyy-MM-dd"):
            parse_date(bad)


def test_datetime_without_offset_is_in_the_account_time_zone() -> None:
    """FLOW-14, GEN-1: no offset → account time zone; stored as UTC."""
    assert parse_datetime("2026-03-02T10:00:00", STOCKHOLM) == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert parse_datetime("2026-03-02T10:00:00Z", STOCKHOLM) == datetime(2026, 3, 2, 10, tzinfo=UTC)
    with pytest.raises(ValueConversionError, match="ISO-8601"):
        parse_datetime("yesterday", STOCKHOLM)


def test_blank_changes_nothing_and_null_clears() -> None:
    """FLOW-13: empty or whitespace-only → no change; exactly NULL → clear."""
    assert convert_text(FieldType.INTEGER, "", UTC) is UNCHANGED
    assert convert_text(FieldType.STRING, "   ", UTC) is UNCHANGED
    assert convert_text(FieldType.INTEGER, "NULL", UTC) is CLEAR
    assert convert_text(FieldType.STRING, "null", UTC) == "null"


def test_strings_are_kept_as_written_up_to_the_column_size() -> None:
    """FLOW-14: strings as is; string columns hold 255 characters."""
    assert convert_text(FieldType.STRING, " Ann ", UTC) == " Ann "
    with pytest.raises(ValueConversionError, match="at most 255"):
        convert_text(FieldType.STRING, "x" * 256, UTC)
    assert convert_text(FieldType.TEXT, "x" * 256, UTC) == "x" * 256


def test_json_values_convert_by_type() -> None:
    """FLOW-14 for JSON input: native numbers and booleans, null clears."""
    assert convert_json(FieldType.SCORE, 12, UTC) == 12
    assert convert_json(FieldType.SCORE, "12", UTC) == 12
    assert convert_json(FieldType.BOOLEAN, True, UTC) is True
    assert convert_json(FieldType.STRING, None, UTC) is CLEAR
    assert convert_json(FieldType.STRING, 46701234, UTC) == "46701234"
    with pytest.raises(ValueConversionError, match="is not an integer"):
        convert_json(FieldType.INTEGER, 1.5, UTC)
    with pytest.raises(ValueConversionError, match="is a boolean"):
        convert_json(FieldType.INTEGER, True, UTC)
    with pytest.raises(ValueConversionError, match="single value"):
        convert_json(FieldType.STRING, ["a"], UTC)


@pytest.mark.parametrize("text", ["bad", "a@b", "@x.com", "a@b@x.com", "a b@x.com", "a@.com"])
def test_invalid_email_addresses(text: str) -> None:
    """MAIL-4 syntax: one @, non-empty local part, a dot in the domain."""
    assert email_problem(text) is not None


def test_valid_email_address() -> None:
    assert email_problem("ann.berg@example.co.uk") is None


def test_format_value() -> None:
    """TOK-5 formats for Change Data Value old/new values."""
    assert format_value(True) == "true"
    assert format_value(date(2026, 3, 2)) == "2026-03-02"
    assert format_value(datetime(2026, 3, 2, 10, tzinfo=UTC)) == "2026-03-02T10:00:00Z"
    assert format_value(None) is None
