"""Rate, concurrency and daily limits (API-9, LIM-7) and system errors (API-12 611)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apisupport import Api, error_code

from kampanj.api import ApiSettings
from kampanj.api.envelope import ApiError
from kampanj.api.limits import CallLimiter
from kampanj.clock import FixedClock

PATH = "/rest/v1/campaigns.json"


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(rate_limit_calls=3, rate_limit_window_seconds=20, daily_quota=5)


def test_sliding_window_rate_limit(api: Api) -> None:
    """API-9: over N calls in a sliding 20 s → 606; the window slides with the clock."""
    for _ in range(3):
        assert api.get(PATH)["success"] is True
    assert error_code(api.get(PATH)) == "606"
    api.clock.set(api.clock.now() + timedelta(seconds=20))
    assert api.get(PATH)["success"] is True


def test_uncounted_calls(api: Api) -> None:
    """API-9: identity calls and 601 failures are not counted."""
    token = api.token()  # identity call
    for _ in range(5):
        assert error_code(api.client.get(PATH, params={"access_token": "forged"}).json()) == "601"
    for _ in range(3):
        assert api.get(PATH, token)["success"] is True


def test_daily_quota_resets_at_midnight_utc_minus_6(api: Api) -> None:
    """API-9: over the daily quota → 607; the day starts at 00:00 UTC−06:00."""
    api.clock.set(datetime(2026, 3, 2, 5, 0, tzinfo=UTC))  # 23:00 on March 1st at UTC−6
    token = api.token()
    for step in range(5):
        api.clock.set(api.clock.now() + timedelta(seconds=21 * (step > 0)))
        assert api.get(PATH, token)["success"] is True
    api.clock.set(api.clock.now() + timedelta(seconds=21))
    assert error_code(api.get(PATH, token)) == "607"
    api.clock.set(datetime(2026, 3, 2, 5, 59, 59, tzinfo=UTC))
    assert error_code(api.get(PATH, token)) == "607"
    api.clock.set(datetime(2026, 3, 2, 6, 0, 1, tzinfo=UTC))  # 00:00:01 at UTC−6
    assert api.get(PATH, api.token("next day"))["success"] is True


def test_concurrency_limit() -> None:
    """API-9: an 11th call in flight → 615; finishing one admits the next."""
    limiter = CallLimiter(ApiSettings(), FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
    admitted = [limiter.admit() for _ in range(10)]
    with pytest.raises(ApiError) as refused:
        limiter.admit()
    assert refused.value.code == "615"
    limiter.finish(admitted[0], counted=True)
    limiter.admit()


def test_system_error_is_611_without_traceback_and_not_counted(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API-12: an unexpected failure → 611 envelope, no internals, not counted (API-9)."""
    from kampanj.api.routes import describe

    def broken(_connection: object) -> None:
        raise RuntimeError("internal detail: secret table layout")

    monkeypatch.setattr(describe, "load_field_registry", broken)
    token = api.token()
    for _ in range(4):
        answer = api.client.get(
            "/rest/v1/leads/describe.json", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200
        assert error_code(answer.json()) == "611"
        assert "Traceback" not in answer.text and "internal detail" not in answer.text
    assert api.get(PATH, token)["success"] is True
