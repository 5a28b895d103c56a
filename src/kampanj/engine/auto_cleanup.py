"""Setting ``autoCleanup`` (CMP-23): idle trigger campaigns are deactivated each quarter.

At 00:00 on the first day of each quarter in the account time zone (GEN-1) — the
*boundary* — active trigger campaigns that have been active for over six months and had no
qualification in the last six months are deactivated as `kampanj deactivate` does (CMP-13:
people in the flow and queued runs finish). Six months are calendar months before the
boundary; *active since* is ``campaign.activated_at`` (a re-activation restarts it; NULL is
read as ``updated_at``, never earlier than the activation), the last qualification is the
newest ``campaign_member.updated_at`` (every qualification stamps it, CMP-20).

The tick calls `clean_up` every time; it acts once per boundary, recorded in
``campaign_cleanup`` in the transaction that deactivates, so a repeat or a second worker does
nothing and a boundary missed while no worker ran is handled at the next tick. A boundary is
cleaned up only when a tick already saw the setting on before it: the first tick that finds
the setting on records the current quarter and cleans up nothing (switching it on in the
middle of a quarter does not deactivate anything at once); switching it off forgets those
records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kampanj.clock import Clock
from kampanj.model.campaigns import CampaignType
from kampanj.store import codec
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.schema import campaign, campaign_cleanup, campaign_member, setting

__all__ = ["IDLE_MONTHS", "Cleanup", "clean_up", "months_before", "quarter_start"]

IDLE_MONTHS = 6


@dataclass(frozen=True, kw_only=True, slots=True)
class Cleanup:
    """What one boundary's cleanup did."""

    boundary: datetime
    """00:00 on the quarter's first day in the account zone, as UTC."""
    ran: bool
    """False when this tick only started watching (the setting was first seen on)."""
    deactivated: tuple[tuple[int, str], ...] = ()
    """(campaign id, name) of the campaigns deactivated, by id."""

    def to_report(self) -> dict[str, Any]:
        return {
            "boundary": self.boundary,
            "campaignIds": [campaign_id for campaign_id, _ in self.deactivated],
            "campaigns": [name for _, name in self.deactivated],
        }


def quarter_start(instant: datetime, zone: tzinfo) -> datetime:
    """The latest boundary at or before ``instant``: 00:00 on the first day of its quarter
    in ``zone``, as UTC."""
    local = instant.astimezone(zone)
    month = (local.month - 1) // 3 * 3 + 1
    return datetime(local.year, month, 1, tzinfo=zone).astimezone(UTC)


def months_before(instant: datetime, months: int, zone: tzinfo) -> datetime:
    """The same wall-clock time ``months`` calendar months earlier in ``zone`` (the day is
    kept; boundaries are on the 1st, so it always exists), as UTC."""
    local = instant.astimezone(zone)
    index = local.year * 12 + local.month - 1 - months
    earlier = local.replace(year=index // 12, month=index % 12 + 1, tzinfo=None)
    return earlier.replace(tzinfo=zone).astimezone(UTC)


def clean_up(database: Database, clock: Clock) -> Cleanup | None:
    """Handle the latest boundary if no tick has; None when there was nothing to do."""
    now = clock.now()
    with database.read() as connection:
        settings = codec.settings_from_json(
            {row.name: row.value for row in connection.execute(select(setting))}
        )
        latest = connection.execute(select(func.max(campaign_cleanup.c.boundary))).scalar()
    if not settings.auto_cleanup:
        if latest is not None:  # switched off: forget, so switching on again starts afresh
            with database.begin() as connection:
                connection.execute(delete(campaign_cleanup))
        return None
    zone = settings.zone()
    boundary = quarter_start(now, zone)
    if latest is not None and latest >= boundary:
        return None  # handled (by this or another worker)
    watched = latest is not None  # a tick saw the setting on before this boundary
    with database.begin() as connection:
        if not _claim(connection, boundary, ran=watched, now=now):
            return None  # another worker claimed it meanwhile
        if not watched:
            return Cleanup(boundary=boundary, ran=False)
        idle = _idle_campaigns(connection, months_before(boundary, IDLE_MONTHS, zone))
        deactivated = _deactivate(connection, [campaign_id for campaign_id, _ in idle], now)
        done = tuple((i, name) for i, name in idle if i in deactivated)
        connection.execute(
            update(campaign_cleanup)
            .where(campaign_cleanup.c.boundary == boundary)
            .values(deactivated=[i for i, _ in done])
        )
    return Cleanup(boundary=boundary, ran=True, deactivated=done)


def _claim(connection: Connection, boundary: datetime, *, ran: bool, now: datetime) -> bool:
    """Record ``boundary`` as handled; False when another transaction recorded it first."""
    row = {"boundary": boundary, "ran": ran, "deactivated": [], "done_at": now}
    if connection.dialect.name == "postgresql":
        statement: Any = postgresql_insert(campaign_cleanup).on_conflict_do_nothing()
    elif connection.dialect.name == "sqlite":
        statement = sqlite_insert(campaign_cleanup).on_conflict_do_nothing()
    else:  # pragma: no cover - kampanj runs on SQLite and PostgreSQL only
        statement = insert(campaign_cleanup)
    return bool(connection.execute(statement.values(row)).rowcount)


def _idle_campaigns(connection: Connection, cutoff: datetime) -> list[tuple[int, str]]:
    """Active trigger campaigns active since before ``cutoff`` without a qualification at
    or after it, by id."""
    candidates = {
        c.id: c.name
        for c in read_definitions(connection).campaigns
        if c.id is not None and c.active and not c.executable and c.type is CampaignType.TRIGGER
    }
    if not candidates:
        return []
    ids = sorted(candidates)
    since = {
        row.id: row.since
        for row in connection.execute(
            select(
                campaign.c.id,
                func.coalesce(campaign.c.activated_at, campaign.c.updated_at).label("since"),
            ).where(campaign.c.id.in_(ids))
        )
    }
    member = campaign_member.c
    qualified = {
        row.campaign_id: row.last
        for row in connection.execute(
            select(member.campaign_id, func.max(member.updated_at).label("last"))
            .where(member.campaign_id.in_(ids))
            .group_by(member.campaign_id)
        )
    }
    return [
        (campaign_id, candidates[campaign_id])
        for campaign_id in ids
        if _utc(since[campaign_id]) < cutoff
        and (qualified.get(campaign_id) is None or _utc(qualified[campaign_id]) < cutoff)
    ]


def _deactivate(connection: Connection, ids: list[int], now: datetime) -> set[int]:
    """CMP-13 for ``ids`` still active: only new entries stop."""
    if not ids:
        return set()
    return set(
        connection.execute(
            update(campaign)
            .where(campaign.c.id.in_(ids), campaign.c.active.is_(True))
            .values(active=False, updated_at=now)
            .returning(campaign.c.id)
        ).scalars()
    )


def _utc(value: datetime) -> datetime:
    """Aggregates (``coalesce``, ``max``) may come back without the column type's zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
