"""Folders, programs and workspaces as the API shows them (API-14, API-27, API-38)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from kampanj.model.tree import FolderKind
from kampanj.store.schema import channel, folder, workspace


@dataclass(frozen=True, kw_only=True, slots=True)
class FolderRow:
    """One stored folder, program or root folder."""

    id: int
    workspace_id: int
    parent_id: int | None
    kind: FolderKind
    name: str
    description: str
    channel: str | None
    created_at: Any
    updated_at: Any


class Tree:
    """Every folder of the account with its workspace and program."""

    def __init__(self, connection: Connection) -> None:
        self.workspaces: dict[int, str] = {
            row.id: row.name for row in connection.execute(select(workspace.c.id, workspace.c.name))
        }
        channels = {row.id: row.name for row in connection.execute(select(channel))}
        self.folders: dict[int, FolderRow] = {
            row.id: FolderRow(
                id=row.id,
                workspace_id=row.workspace_id,
                parent_id=row.parent_id,
                kind=FolderKind(row.kind),
                name=row.name,
                description=row.description,
                channel=channels.get(row.channel_id) if row.channel_id else None,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in connection.execute(select(folder).order_by(folder.c.id))
        }

    def workspace_of(self, folder_id: int) -> str:
        return self.workspaces[self.folders[folder_id].workspace_id]

    def ancestry(self, folder_id: int) -> Iterator[FolderRow]:
        """The folder itself, then each parent up to the root folder."""
        current: int | None = folder_id
        while current is not None:
            row = self.folders[current]
            yield row
            current = row.parent_id

    def program_of(self, folder_id: int) -> FolderRow | None:
        """The innermost program containing (or being) the folder."""
        return next((r for r in self.ancestry(folder_id) if r.kind is FolderKind.PROGRAM), None)

    def path_of(self, folder_id: int) -> str:
        """``/Workspace/Folder/Program`` (API-27 ``path``)."""
        names = [r.name for r in self.ancestry(folder_id)]
        names[-1] = self.workspace_of(folder_id)
        return "/" + "/".join(reversed(names))

    def beneath(self, folder_id: int) -> set[int]:
        """The folder and every folder below it."""
        children: dict[int, list[int]] = {}
        for row in self.folders.values():
            if row.parent_id is not None:
                children.setdefault(row.parent_id, []).append(row.id)
        found: set[int] = set()
        pending = [folder_id]
        while pending:
            current = pending.pop()
            if current not in found:
                found.add(current)
                pending.extend(children.get(current, ()))
        return found
