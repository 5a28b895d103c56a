"""Counts that describe what an account holds (used by `kampanj demo` and `status`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, select

from kampanj.model.activities import ActivityTypeRegistry
from kampanj.store import schema
from kampanj.store.registry import load_field_registry


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountSummary:
    """What an account holds, in numbers."""

    workspaces: int
    """Workspaces."""
    folders: int
    """Folders, root folders excluded."""
    programs: int
    """Programs."""
    campaigns_by_type: dict[str, int]
    """Campaigns per derived type (CMP-2), executables counted apart."""
    static_lists: int
    """Static lists."""
    smart_lists: int
    """Stand-alone smart lists."""
    emails: int
    """Emails."""
    custom_fields: int
    """Custom person fields."""
    people: int
    """Persons."""
    activities_by_type: dict[str, int]
    """Activity counts by type name, largest first."""


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def account_summary(connection: Connection, activity_types: ActivityTypeRegistry) -> AccountSummary:
    """Count everything worth showing about the account."""
    folder = schema.folder
    rows = connection.execute(
        select(folder.c.kind, func.count())
        .where(folder.c.parent_id.is_not(None))
        .group_by(folder.c.kind)
    ).all()
    folders_by_kind: dict[str, int] = {kind: int(count) for kind, count in rows}
    activity = schema.activity
    per_type = connection.execute(
        select(activity.c.activity_type_id, func.count()).group_by(activity.c.activity_type_id)
    ).all()
    activities_by_type: dict[str, int] = {}
    for type_id, count in sorted(per_type, key=lambda row: -row[1]):
        known = activity_types.by_id(type_id)
        activities_by_type[known.name if known else f"type {type_id}"] = int(count)
    return AccountSummary(
        workspaces=_count(connection, schema.workspace),
        folders=int(folders_by_kind.get("Folder", 0)),
        programs=int(folders_by_kind.get("Program", 0)),
        campaigns_by_type=_campaigns_by_type(connection),
        static_lists=_count(connection, schema.static_list),
        smart_lists=_count(connection, schema.smart_list),
        emails=_count(connection, schema.email),
        custom_fields=len(load_field_registry(connection).custom),
        people=_count(connection, schema.person),
        activities_by_type=activities_by_type,
    )


def _campaigns_by_type(connection: Connection) -> dict[str, int]:
    from kampanj.store.definitions_repo import read_definitions

    counts: dict[str, int] = {}
    for campaign in read_definitions(connection).campaigns:
        kind = "executable" if campaign.executable else campaign.type.value
        counts[kind] = counts.get(kind, 0) + 1
    return counts
