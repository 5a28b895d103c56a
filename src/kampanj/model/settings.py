"""Account settings (GEN-1, GEN-9, LIM)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_EXECUTE_DEPTH = 3  # Marketo allows Parent > Child > Child > Child (EXE-14, LIM-1)
MAX_CAUSATION_DEPTH = 25  # GEN-8, LIM-17


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountSettings:
    """Settings of one kampanj installation; runtime guards read the current values (GEN-9)."""

    timezone: str = "UTC"
    """Time zone for calendar logic (GEN-1)."""
    default_max_members: int | None = None
    """Person restriction for campaigns without their own (CMP-6, LIM-24)."""
    max_execute_depth: int = MAX_EXECUTE_DEPTH
    """Execute Campaign nesting below level 0 (LIM-1)."""
    max_causation_depth: int = MAX_CAUSATION_DEPTH
    """Causation depth of chained runs (GEN-8)."""
    comm_limit_per_day: int | None = None
    """Communication limit per day (MAIL-6)."""
    comm_limit_per_7_days: int | None = None
    """Communication limit per 7 days (MAIL-6)."""
    webhook_timeout_seconds: int = 30
    """Webhook timeout (HOOK-4, LIM-15)."""
    webhook_allow_hosts: tuple[str, ...] = ()
    """Hosts exempt from the private-address block (HOOK-4)."""
    public_base_url: str = "http://localhost:8000"
    """Base of system links in emails (TOK-7)."""
    auto_cleanup: bool = False
    """Deactivate idle trigger campaigns at each quarter's start (CMP-23)."""

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


SETTING_NAMES: dict[str, str] = {
    # YAML / REST spelling → attribute name
    "timezone": "timezone",
    "defaultMaxMembers": "default_max_members",
    "maxExecuteDepth": "max_execute_depth",
    "maxCausationDepth": "max_causation_depth",
    "commLimitPerDay": "comm_limit_per_day",
    "commLimitPer7Days": "comm_limit_per_7_days",
    "webhookTimeoutSeconds": "webhook_timeout_seconds",
    "webhookAllowHosts": "webhook_allow_hosts",
    "publicBaseUrl": "public_base_url",
    "autoCleanup": "auto_cleanup",
}


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not a usable IANA time zone, or None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}; use an IANA name such as 'Europe/Stockholm'"
    return None


def settings_to_mapping(settings: AccountSettings) -> dict[str, Any]:
    """Settings keyed by their YAML / REST names."""
    by_attribute = {attribute: name for name, attribute in SETTING_NAMES.items()}
    return {by_attribute[f.name]: getattr(settings, f.name) for f in fields(settings)}
