"""Server settings of the REST API (API-3, API-9, API-10, LIM-7..9).

These are process settings, not account definitions: `kampanj serve` builds them and tests
shrink them (a rate limit of 3 calls is as good a test as one of 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

QUOTA_DAY_ZONE = timezone(timedelta(hours=-6))  # API-9: the daily quota resets at 00:00 UTC−06:00


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiSettings:
    """Limits and identity of one API server."""

    account_id: str = "kampanj"
    """Suffix of access tokens (``<uuid>:<account id>``, API-2); Marketo's Munchkin id."""
    token_lifetime_seconds: int = 3_600
    """Access token lifetime (API-3, LIM-9)."""
    rate_limit_calls: int = 100
    """Calls allowed in one sliding window (API-9, LIM-7)."""
    rate_limit_window_seconds: int = 20
    """Length of the sliding window."""
    max_concurrent_calls: int = 10
    """Calls in flight at once (API-9)."""
    daily_quota: int = 50_000
    """Calls per day, the day starting at 00:00 UTC−06:00 (API-9)."""
    max_body_bytes: int = 1_048_576
    """Larger bodies get HTTP 413 (API-10, LIM-8)."""
    max_uri_bytes: int = 8_192
    """Longer URIs get HTTP 414 (API-10, LIM-8)."""
    clone_to_program_per_day: int = 20
    """``schedule.json`` calls with ``cloneToProgramName`` per account per day (API-21, LIM-11)."""
