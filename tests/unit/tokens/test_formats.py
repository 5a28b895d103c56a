"""Value formats (TOK-5, TOK-7) and encoder selection (HOOK-3)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kampanj.model.assets import TokenEncoding
from kampanj.model.fields import FieldType
from kampanj.tokens.formats import (
    decimal_text,
    field_text,
    form_encoding,
    json_encoding,
    no_encoding,
    system_date,
    system_time,
    webhook_encoder,
)

UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.1"), (10.0, "10"), (1e16, "10000000000000000"), (-2.5, "-2.5"), (-0.0, "0")],
)
def test_floats_are_shortest_round_trip_decimals(value: float, text: str) -> None:
    """TOK-5: floats as shortest round-trip decimals."""
    assert decimal_text(value) == text
    assert float(text) == value


@pytest.mark.parametrize(
    ("value", "data_type", "text"),
    [
        (Decimal("1250.5000"), FieldType.CURRENCY, "1250.5"),
        (40, FieldType.SCORE, "40"),
        (40.0, FieldType.INTEGER, "40"),
        (1, FieldType.BOOLEAN, "true"),
        (False, FieldType.BOOLEAN, "false"),
        (date(2026, 1, 2), FieldType.DATE, "2026-01-02"),
        (datetime(2026, 1, 2, 3, 4, 5), FieldType.DATETIME, "2026-01-02 03:04:05"),
        (None, FieldType.STRING, None),
    ],
)
def test_field_text(value: object, data_type: FieldType, text: str | None) -> None:
    """TOK-5: dates yyyy-MM-dd, booleans true/false, integers without decimals."""
    assert field_text(value, data_type, UTC_ZONE) == text  # type: ignore[arg-type]


def test_system_time_at_midnight_and_noon_and_half_hour_offsets() -> None:
    """TOK-7: hh:mm a with the zone's offset, 12-hour clock."""
    kolkata = ZoneInfo("Asia/Kolkata")
    assert system_time(datetime(2026, 1, 1, 18, 30, tzinfo=UTC), kolkata) == (
        "12:00 AM (GMT +0530)"
    )
    assert system_time(datetime(2026, 1, 1, 12, 5, tzinfo=UTC), UTC_ZONE) == "12:05 PM (GMT +0000)"
    assert system_date(datetime(2026, 1, 1, 23, 0, tzinfo=UTC), kolkata) == "Jan 02, 2026"


def test_webhook_encoder_follows_request_token_encoding() -> None:
    """HOOK-3: JSON, Form/Url or None."""
    assert webhook_encoder(TokenEncoding.JSON) is json_encoding
    assert webhook_encoder(TokenEncoding.FORM_URL) is form_encoding
    assert webhook_encoder(TokenEncoding.NONE) is no_encoding
