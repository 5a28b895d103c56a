"""The injectable clock (GEN-1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kampanj.clock import FixedClock, SystemClock


def test_fixed_clock_normalises_to_utc_and_moves_by_hand() -> None:
    stockholm = timezone(timedelta(hours=1))
    clock = FixedClock(datetime(2026, 3, 2, 11, 0, tzinfo=stockholm))
    assert clock.now() == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    assert clock.now() == datetime(2026, 3, 3, tzinfo=UTC)


def test_fixed_clock_refuses_naive_instants() -> None:
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 3, 2))


def test_system_clock_is_aware() -> None:
    assert SystemClock().now().tzinfo is not None
