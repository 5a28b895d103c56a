"""My Token visibility down the account → folder → program tree (TOK-11, TOK-12, PROV-2).

A location sees every token defined on the account, on its workspace's root folder and on
each folder or program above it, and its own; the nearest definition of a name wins. The
tree is built from domain objects only, so a move or a deleted token is visible as soon as
the definitions it is built from change (TOK-12).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from kampanj.model.account import Definitions
from kampanj.model.names import fold
from kampanj.model.tokens import MyToken, MyTokenType
from kampanj.model.tree import Folder, FolderPath

token_key = fold
"""Token names match case-insensitively with runs of whitespace collapsed (TOK-1, GEN-7)."""


def _path_key(workspace: str, path: FolderPath) -> tuple[str, tuple[str, ...]]:
    return token_key(workspace), tuple(token_key(part) for part in path)


class LocationType(StrEnum):
    """Kinds of places a My Token can be defined (PROV-1 ``location.type``)."""

    ACCOUNT = "account"
    FOLDER = "folder"
    PROGRAM = "program"


class TokenStatus(StrEnum):
    """A visible token's status at one location (TOK-11, API-40)."""

    LOCAL = "local"
    """Defined here only."""
    INHERITED = "inherited"
    """Defined above only."""
    OVERRIDDEN = "overridden"
    """Defined here and above; here wins."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Location:
    """The account, a workspace root folder, a folder or a program."""

    type: LocationType
    """Account, folder (root folders included) or program."""
    name: str
    """Account: ``account``; root folder: the workspace name; else the folder's name."""
    workspace: str | None = None
    """Owning workspace; None for the account."""
    path: FolderPath = ()
    """Names from the root folder down; ``()`` for the root folder and the account."""
    id: int | None = None
    """Folder id once stored; None for the account and unstored folders."""
    description: str = ""
    """Free text (``{{program.description}}``, TOK-6)."""

    @property
    def is_account(self) -> bool:
        return self.type is LocationType.ACCOUNT

    @property
    def display(self) -> str:
        """``account``, ``Default`` or ``Default/Lead Management/Lead Scoring``."""
        if self.workspace is None:
            return "account"
        return "/".join((self.workspace, *self.path))

    def to_json(self) -> dict[str, object]:
        """PROV-1 ``location``: ``{type, id, name}`` plus the path for people."""
        return {"type": self.type.value, "id": self.id, "name": self.name, "path": self.display}


ACCOUNT = Location(type=LocationType.ACCOUNT, name="account")


@dataclass(frozen=True, kw_only=True, slots=True)
class VisibleToken:
    """A My Token as seen from one location."""

    name: str
    """Name as defined at the winning location."""
    type: MyTokenType
    """Type of the winning definition."""
    value: str
    """Value of the winning definition."""
    status: TokenStatus
    """Local, inherited or overridden, relative to the viewing location."""
    defined_at: Location
    """Where the winning (nearest) definition lives."""
    overrides: tuple[Location, ...] = ()
    """Higher locations whose definitions this one hides, nearest first."""


class TokenTree:
    """My Tokens and the containers they hang on, for visibility and TOK-6 lookups."""

    def __init__(
        self,
        *,
        tokens: Iterable[MyToken],
        folders: Iterable[Folder] = (),
        root_folder_ids: Mapping[str, int] | None = None,
    ) -> None:
        self._containers: dict[tuple[str, tuple[str, ...]], Location] = {}
        for folder in folders:
            self._containers[_path_key(folder.workspace, folder.path)] = Location(
                type=(LocationType.PROGRAM if folder.is_program else LocationType.FOLDER),
                name=folder.name,
                workspace=folder.workspace,
                path=folder.path,
                id=folder.id,
                description=folder.description,
            )
        self._root_ids = {token_key(ws): fid for ws, fid in (root_folder_ids or {}).items()}
        # Definitions per location key ("" = account), each name_key → token.
        self._defined: dict[tuple[str, tuple[str, ...]] | None, dict[str, MyToken]] = {}
        for token in tokens:
            key = None
            if token.workspace is not None:
                key = _path_key(token.workspace, token.folder or ())
            self._defined.setdefault(key, {})[token_key(token.name)] = token

    @classmethod
    def from_definitions(
        cls, definitions: Definitions, root_folder_ids: Mapping[str, int] | None = None
    ) -> TokenTree:
        """The tree of a `Definitions` bundle (stored or loaded from YAML)."""
        return cls(
            tokens=definitions.tokens, folders=definitions.folders, root_folder_ids=root_folder_ids
        )

    # -- locations --------------------------------------------------------------------

    def location(self, workspace: str, path: FolderPath) -> Location:
        """The container at ``path`` of ``workspace`` (a plain folder if it is not known)."""
        if not path:
            return Location(
                type=LocationType.FOLDER,
                name=workspace,
                workspace=workspace,
                id=self._root_ids.get(token_key(workspace)),
            )
        known = self._containers.get(_path_key(workspace, path))
        if known is not None:
            return known
        return Location(type=LocationType.FOLDER, name=path[-1], workspace=workspace, path=path)

    def lineage(self, workspace: str, path: FolderPath) -> tuple[Location, ...]:
        """Account, root folder, every folder down to ``path`` itself: top first."""
        return (ACCOUNT, *(self.location(workspace, path[:end]) for end in range(len(path) + 1)))

    def nearest_program(self, workspace: str, path: FolderPath) -> Location | None:
        """The innermost program containing (or being) ``path`` (TOK-6, TOK-9)."""
        for location in reversed(self.lineage(workspace, path)):
            if location.type is LocationType.PROGRAM:
                return location
        return None

    def containers(self) -> tuple[Location, ...]:
        """Every known folder and program (root folders not included)."""
        return tuple(self._containers.values())

    def knows(self, workspace: str, path: FolderPath) -> bool:
        return not path or _path_key(workspace, path) in self._containers

    # -- tokens -----------------------------------------------------------------------

    def _defined_at(self, location: Location) -> Mapping[str, MyToken]:
        if location.workspace is None:
            return self._defined.get(None, {})
        return self._defined.get(_path_key(location.workspace, location.path), {})

    def visible(self, workspace: str, path: FolderPath) -> tuple[VisibleToken, ...]:
        """Every token visible at ``path``, sorted by name case-insensitively (API-40)."""
        lineage = self.lineage(workspace, path)
        here = lineage[-1]
        found: dict[str, list[tuple[Location, MyToken]]] = {}
        for location in lineage:
            for key, token in self._defined_at(location).items():
                found.setdefault(key, []).append((location, token))
        visible = [self._visible(definitions, here) for definitions in found.values()]
        return tuple(sorted(visible, key=lambda t: (token_key(t.name), t.name)))

    def lookup(self, workspace: str, path: FolderPath, name: str) -> VisibleToken | None:
        """The nearest definition of ``name`` visible at ``path``, or None (TOK-11)."""
        key = token_key(name)
        lineage = self.lineage(workspace, path)
        definitions = [
            (location, token)
            for location in lineage
            if (token := self._defined_at(location).get(key)) is not None
        ]
        if not definitions:
            return None
        return self._visible(definitions, lineage[-1])

    @staticmethod
    def _visible(definitions: list[tuple[Location, MyToken]], here: Location) -> VisibleToken:
        location, token = definitions[-1]
        above = tuple(loc for loc, _ in reversed(definitions[:-1]))
        if location != here:
            status = TokenStatus.INHERITED
        elif above:
            status = TokenStatus.OVERRIDDEN
        else:
            status = TokenStatus.LOCAL
        return VisibleToken(
            name=token.name,
            type=token.type,
            value=token.value,
            status=status,
            defined_at=location,
            overrides=above,
        )


__all__ = [
    "ACCOUNT",
    "Location",
    "LocationType",
    "TokenStatus",
    "TokenTree",
    "VisibleToken",
    "token_key",
]
