"""Workspaces, folders, programs and channels (overview §2-3, WS-1..4)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_WORKSPACE = "Default"  # WS-4: a new account has workspace Default (id 1)


class FolderKind(StrEnum):
    """A container in the tree is a plain folder or a program (API-27 ``type``)."""

    FOLDER = "Folder"
    PROGRAM = "Program"


FolderPath = tuple[str, ...]
"""Names from the workspace root folder down; ``()`` is the root folder itself."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ProgramStatus:
    """One status of a channel's progression."""

    name: str
    """Status name, e.g. ``Attended``."""
    success: bool = False
    """Reaching this status marks program success (FLOW-21)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Channel:
    """A program channel: ordered statuses, some of them success."""

    name: str
    """Channel name, unique in the account."""
    statuses: tuple[ProgramStatus, ...]
    """Statuses in progression order; the position is the rank (FLOW-20)."""
    id: int | None = None
    """Storage id once written."""

    def rank(self, status: str) -> int | None:
        """Position of ``status`` in the progression (case-insensitive), or None."""
        wanted = status.strip().casefold()
        for index, candidate in enumerate(self.statuses):
            if candidate.name.casefold() == wanted:
                return index
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class Workspace:
    """A partition of marketing assets (WS-1)."""

    name: str
    """Workspace name, unique in the account."""
    description: str = ""
    """Free text."""
    id: int | None = None
    """Storage id once written."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Folder:
    """A folder or a program in a workspace's tree."""

    workspace: str
    """Workspace the folder belongs to."""
    path: FolderPath
    """Names from the root folder down to and including this one."""
    kind: FolderKind = FolderKind.FOLDER
    """Folder or program."""
    description: str = ""
    """Free text."""
    channel: str | None = None
    """Channel name; programs only."""
    key: str | None = None
    """Stable identity chosen by the author; keeps the id across renames."""
    id: int | None = None
    """Storage id once written."""

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else self.workspace

    @property
    def parent_path(self) -> FolderPath:
        return self.path[:-1]

    @property
    def is_program(self) -> bool:
        return self.kind is FolderKind.PROGRAM
