"""Where each definition object (and each part of it) was written (VAL-2 file and line).

Objects are identified by kind and case-insensitive name within their scope, the same
identity the validator uses, so a SourceMap built while loading still finds objects
after A2's store has merged them with stored state (ids added, other objects mixed in).
Locations inside an object use the finding vocabulary: ``smartList.filters[3]``,
``flow.s2.choices[1].if``, ``schedule.recurrence``; a lookup falls back to the
nearest recorded enclosing location, then to the object itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kampanj.model.activities import ActivityTypeDef
from kampanj.model.assets import Email, Webhook
from kampanj.model.campaigns import Campaign
from kampanj.model.fields import FieldDef
from kampanj.model.names import fold
from kampanj.model.settings import AccountSettings
from kampanj.model.smartlists import SmartList, StaticList
from kampanj.model.tokens import MyToken
from kampanj.model.tree import Channel, Folder, FolderPath, Workspace

ObjectKey = tuple[str, ...]
"""Kind plus case-folded scope and name, e.g. ``("campaign", "default", "a/b", "x")``."""

_SEGMENT = re.compile(r"\.|(?=\[)")


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceLocation:
    """A place in a YAML file."""

    file: str
    """File path as given to the loader."""
    line: int
    """1-based line."""
    column: int
    """1-based column."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def folder_key(workspace: str, path: FolderPath) -> str:
    """Case-insensitive identity of a folder path within a workspace."""
    return fold(workspace) + "|" + "/".join(fold(p) for p in path)


def token_scope(workspace: str | None, folder: FolderPath | None) -> str:
    """Identity of where a My Token is defined: ``""`` for the account, else its folder."""
    return "" if workspace is None else folder_key(workspace, folder or ())


def object_key(obj: object) -> ObjectKey:
    """The identity under which ``obj`` is recorded and found."""
    match obj:
        case Campaign():
            return ("campaign", folder_key(obj.workspace, obj.folder), fold(obj.name))
        case SmartList():
            return ("smart list", fold(obj.workspace), fold(obj.name))
        case StaticList():
            return ("list", fold(obj.workspace), fold(obj.name))
        case Email():
            return ("email", fold(obj.workspace), fold(obj.name))
        case Folder():
            return ("folder", folder_key(obj.workspace, obj.path))
        case MyToken():
            return ("token", token_scope(obj.workspace, obj.folder), fold(obj.name))
        case FieldDef():
            return ("field", fold(obj.name))
        case ActivityTypeDef():
            return ("activity type", str(obj.id))
        case Channel():
            return ("channel", fold(obj.name))
        case Webhook():
            return ("webhook", fold(obj.name))
        case Workspace():
            return ("workspace", fold(obj.name))
        case AccountSettings():
            return ("settings",)
    raise TypeError(f"no source identity for {type(obj).__name__}")


def parent_location(location: str) -> str | None:
    """``flow.s2.choices[1]`` → ``flow.s2``; None above the object itself."""
    if not location:
        return None
    parts = [p for p in _SEGMENT.split(location) if p]
    if len(parts) <= 1:
        return ""
    rebuilt = ""
    for part in parts[:-1]:
        rebuilt += part if part.startswith("[") or not rebuilt else "." + part
    return rebuilt


class SourceMap:
    """File positions of objects and of locations inside them."""

    def __init__(self) -> None:
        self._entries: dict[ObjectKey, list[dict[str, SourceLocation]]] = {}

    def start(self, obj: object | ObjectKey, where: SourceLocation) -> int:
        """Begin recording a new occurrence of ``obj``; returns its occurrence number."""
        key = obj if isinstance(obj, tuple) else object_key(obj)
        occurrences = self._entries.setdefault(key, [])
        occurrences.append({"": where})
        return len(occurrences) - 1

    def record(
        self,
        obj: object | ObjectKey,
        location: str,
        where: SourceLocation,
        *,
        occurrence: int = -1,
    ) -> None:
        """Record where ``location`` inside ``obj`` was written."""
        key = obj if isinstance(obj, tuple) else object_key(obj)
        occurrences = self._entries.setdefault(key, [])
        if not occurrences:
            occurrences.append({})
        occurrences[occurrence].setdefault(location, where)

    def find(
        self, obj: object | ObjectKey, location: str = "", *, occurrence: int = 0
    ) -> SourceLocation | None:
        """Position of ``location`` inside ``obj`` (or its nearest recorded ancestor)."""
        key = obj if isinstance(obj, tuple) else object_key(obj)
        occurrences = self._entries.get(key)
        if not occurrences:
            return None
        entries = occurrences[min(occurrence, len(occurrences) - 1)]
        probe: str | None = location
        while probe is not None:
            found = entries.get(probe)
            if found is not None:
                return found
            probe = parent_location(probe)
        return None

    def occurrences(self, obj: object | ObjectKey) -> int:
        key = obj if isinstance(obj, tuple) else object_key(obj)
        return len(self._entries.get(key, ()))

    def merge(self, other: SourceMap) -> None:
        """Add ``other``'s occurrences after this map's."""
        for key, occurrences in other._entries.items():
            self._entries.setdefault(key, []).extend(dict(o) for o in occurrences)

    def __len__(self) -> int:
        return len(self._entries)
