"""Reading stored definitions back into domain types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from kampanj.model.account import Definitions
from kampanj.model.assets import Email, Webhook
from kampanj.model.campaigns import Campaign
from kampanj.model.names import fold
from kampanj.model.smartlists import SmartList, StaticList
from kampanj.model.tokens import MyToken, MyTokenType
from kampanj.model.tree import Channel, Folder, FolderKind, FolderPath, Workspace
from kampanj.store import codec, schema
from kampanj.store.registry import load_activity_types, load_field_registry

fold_name = fold
"""Names compare case-insensitively with runs of whitespace collapsed (GEN-7)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FolderIndex:
    """Every stored folder (root folders included) by id and by path."""

    workspace_names: Mapping[int, str]
    """Workspace names by id."""
    locations: Mapping[int, tuple[int, FolderPath]]
    """Folder id → (workspace id, path from the root; ``()`` for a root folder)."""

    def by_path(self) -> dict[tuple[str, tuple[str, ...]], int]:
        """Folder ids keyed by case-folded (workspace name, path)."""
        return {
            (fold_name(self.workspace_names[ws]), tuple(fold_name(p) for p in path)): folder_id
            for folder_id, (ws, path) in self.locations.items()
        }

    def workspace_of(self, folder_id: int) -> str:
        return self.workspace_names[self.locations[folder_id][0]]

    def path_of(self, folder_id: int) -> FolderPath:
        return self.locations[folder_id][1]


def load_folder_index(connection: Connection) -> FolderIndex:
    """Paths of every folder, computed from the parent links."""
    workspaces = {
        row.id: row.name
        for row in connection.execute(select(schema.workspace.c.id, schema.workspace.c.name))
    }
    f = schema.folder
    rows = {
        row.id: row
        for row in connection.execute(select(f.c.id, f.c.workspace_id, f.c.parent_id, f.c.name))
    }
    locations: dict[int, tuple[int, FolderPath]] = {}

    def locate(folder_id: int) -> tuple[int, FolderPath]:
        known = locations.get(folder_id)
        if known is not None:
            return known
        row = rows[folder_id]
        if row.parent_id is None:
            result: tuple[int, FolderPath] = (row.workspace_id, ())
        else:
            result = (row.workspace_id, (*locate(row.parent_id)[1], row.name))
        locations[folder_id] = result
        return result

    for folder_id in rows:
        locate(folder_id)
    return FolderIndex(workspace_names=workspaces, locations=locations)


def read_definitions(connection: Connection) -> Definitions:
    """Everything stored, as domain objects carrying their ids (root folders excluded)."""
    index = load_folder_index(connection)
    channels = {
        row.id: Channel(name=row.name, statuses=codec.statuses_from_json(row.statuses), id=row.id)
        for row in _rows(connection, schema.channel)
    }
    folders = tuple(
        Folder(
            workspace=index.workspace_of(row.id),
            path=index.path_of(row.id),
            kind=FolderKind(row.kind),
            description=row.description,
            channel=channels[row.channel_id].name if row.channel_id is not None else None,
            key=row.key,
            id=row.id,
        )
        for row in _rows(connection, schema.folder)
        if row.parent_id is not None
    )

    def place(row: Any) -> dict[str, Any]:
        return {
            "workspace": index.workspace_names[row.workspace_id],
            "folder": index.path_of(row.folder_id),
            "name": row.name,
            "description": row.description,
            "key": row.key,
            "id": row.id,
        }

    settings_rows = {row.name: row.value for row in _rows(connection, schema.setting)}
    return Definitions(
        settings=codec.settings_from_json(settings_rows) if settings_rows else None,
        fields=load_field_registry(connection).custom,
        activity_types=tuple(t for t in load_activity_types(connection) if t.is_custom),
        channels=tuple(channels.values()),
        webhooks=tuple(
            Webhook(
                name=row.name,
                key=row.key,
                id=row.id,
                **codec.webhook_fields_from_json(row.definition),
            )
            for row in _rows(connection, schema.webhook)
        ),
        workspaces=tuple(
            Workspace(name=row.name, description=row.description, id=row.id)
            for row in _rows(connection, schema.workspace)
        ),
        folders=folders,
        tokens=tuple(
            MyToken(
                name=row.name,
                type=MyTokenType(row.type),
                value=row.value,
                workspace=index.workspace_of(row.folder_id) if row.folder_id else None,
                folder=index.path_of(row.folder_id) if row.folder_id else None,
            )
            for row in _rows(connection, schema.my_token)
        ),
        static_lists=tuple(
            StaticList(**place(row)) for row in _rows(connection, schema.static_list)
        ),
        smart_lists=tuple(
            SmartList(**place(row), rules=codec.rules_from_json(row.rules))
            for row in _rows(connection, schema.smart_list)
        ),
        emails=tuple(
            Email(
                **_without_description(place(row)), **codec.email_fields_from_json(row.definition)
            )
            for row in _rows(connection, schema.email)
        ),
        campaigns=tuple(
            Campaign(
                **place(row),
                executable=row.executable,
                active=row.active,
                smart_list=codec.rules_from_json(row.smart_list),
                flow=codec.flow_from_json(row.flow),
                schedule=codec.schedule_from_json(row.schedule),
            )
            for row in _rows(connection, schema.campaign)
        ),
    )


def _rows(connection: Connection, table: Any) -> list[Any]:
    order = table.c.id if "id" in table.c else table.c.name
    return list(connection.execute(select(table).order_by(order)))


def _without_description(place: dict[str, Any]) -> dict[str, Any]:
    # Emails have no description (MAIL-1); the shared asset column stays empty.
    return {k: v for k, v in place.items() if k != "description"}
