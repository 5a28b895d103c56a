"""Account settings an import needs (GEN-1)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select

from kampanj.errors import ConfigurationError
from kampanj.store.schema import setting

DEFAULT_TIMEZONE = "UTC"


def account_zone(connection: Connection) -> ZoneInfo:
    """The account time zone (setting ``timezone``, default UTC)."""
    value = connection.execute(select(setting.c.value).where(setting.c.name == "timezone")).scalar()
    name = value if isinstance(value, str) and value else DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"the stored account time zone {name!r} is unknown; set an IANA name such as "
            "'Europe/Stockholm'"
        ) from None
