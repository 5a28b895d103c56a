"""Merging incoming definitions over stored ones: which incoming object is which stored one.

Identity rules (pure, no I/O):

- folders, static lists, smart lists, emails, campaigns and webhooks: the author's ``key``
  when it matches a stored object (a renamed object keeps its id); otherwise the name in
  its scope, case-insensitively with whitespace runs collapsed (folders: workspace + path;
  campaigns: folder + name; lists, smart lists, emails: workspace + name, as references
  name them; webhooks: name). A name only matches a stored object whose key is unset or
  equal to the incoming key.
- workspaces and channels by name, fields by REST name (case-insensitive), custom activity
  types by id, My Tokens by (location, name).

Incoming objects replace the stored objects they match; stored objects nobody mentions stay
(nothing is deleted). Changes that can never be made (EXE-1 executable flag, a field's type,
moving into another workspace, WS-3) raise `UserError` naming the object.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from kampanj.errors import UserError
from kampanj.model.account import Definitions
from kampanj.model.activities import CUSTOM_ACTIVITY_TYPE_MIN_ID, ActivityTypeDef
from kampanj.model.assets import Email, Webhook
from kampanj.model.campaigns import Campaign
from kampanj.model.fields import STANDARD_FIELDS, FieldDef, custom_column_name
from kampanj.model.smartlists import SmartList, StaticList
from kampanj.model.tokens import MyToken
from kampanj.model.tree import Channel, Folder, FolderPath, Workspace
from kampanj.store.repositories.reading import fold_name

FolderHandle = tuple[str, int | str]
"""A folder during planning: ``("id", 7)`` stored, ``("new", 3)`` to create, ``("root", ws)``."""

_Asset = TypeVar("_Asset", StaticList, SmartList, Email, Campaign)
_Keyed = TypeVar("_Keyed", StaticList, SmartList, Email, Campaign, Webhook)
_T = TypeVar("_T")

_STANDARD_FIELD_NAMES = frozenset(
    fold_name(name) for f in STANDARD_FIELDS for name in (f.name, f.display_name, *f.aliases)
)


@dataclass(frozen=True, kw_only=True, slots=True)
class MergePlan:
    """The outcome of merging: the resulting state and what the input asks to write."""

    merged: Definitions
    """Stored objects nobody mentions (paths updated for renamed folders) plus the input."""
    written: Definitions
    """The input after identity resolution: stored ids and keys filled in, implicit parent
    folders added; only these objects can be created or updated."""


def merge(stored: Definitions, incoming: Definitions) -> Definitions:
    """The state after writing ``incoming`` over ``stored``: what VAL-1 validates."""
    return plan_merge(stored, incoming).merged


def plan_merge(stored: Definitions, incoming: Definitions) -> MergePlan:
    """Match every incoming object to the stored one it replaces, if any."""
    tree = _FolderTree.build(stored.folders, incoming.folders)
    workspaces = _merge_by(stored.workspaces, incoming.workspaces, "workspace", _ws_identity)
    channels = _merge_by(stored.channels, incoming.channels, "channel", _name_identity)
    fields = _merge_fields(stored.fields, incoming.fields)
    activity_types = _merge_activity_types(stored.activity_types, incoming.activity_types)
    webhooks = _merge_keyed(
        stored.webhooks, incoming.webhooks, "webhook", _name_identity, lambda w: w
    )
    tokens = _merge_tokens(tree, stored.tokens, incoming.tokens)
    # Lists, smart lists and emails are referenced by name, so their names are unique in
    # the workspace and moving one to another folder keeps it; campaign names are unique
    # per folder (CMP-1).
    lists = _merge_assets(tree, stored.static_lists, incoming.static_lists, "static list")
    smart_lists = _merge_assets(tree, stored.smart_lists, incoming.smart_lists, "smart list")
    emails = _merge_assets(tree, stored.emails, incoming.emails, "email")
    campaigns = _merge_assets(
        tree,
        stored.campaigns,
        incoming.campaigns,
        "campaign",
        _adopt_campaign,
        per_folder=True,
    )
    settings = incoming.settings if incoming.settings is not None else stored.settings
    merged = Definitions(
        settings=settings,
        fields=fields[0],
        activity_types=activity_types[0],
        channels=channels[0],
        webhooks=webhooks[0],
        workspaces=workspaces[0],
        folders=tree.merged_folders(),
        tokens=tokens[0],
        static_lists=lists[0],
        smart_lists=smart_lists[0],
        emails=emails[0],
        campaigns=campaigns[0],
    )
    written = Definitions(
        settings=incoming.settings,
        fields=fields[1],
        activity_types=activity_types[1],
        channels=channels[1],
        webhooks=webhooks[1],
        workspaces=workspaces[1],
        folders=tree.written_folders(),
        tokens=tokens[1],
        static_lists=lists[1],
        smart_lists=smart_lists[1],
        emails=emails[1],
        campaigns=campaigns[1],
    )
    return MergePlan(merged=merged, written=written)


# -- folders -------------------------------------------------------------------------


def _fold_path(workspace: str, path: FolderPath) -> tuple[str, tuple[str, ...]]:
    return fold_name(workspace), tuple(fold_name(p) for p in path)


def _describe(workspace: str, path: FolderPath) -> str:
    return "/".join((workspace, *path))


class _FolderTree:
    """Stored and incoming folders in the namespace that results from the merge."""

    def __init__(self) -> None:
        self.stored: dict[int, Folder] = {}
        self.stored_parent: dict[int, FolderHandle] = {}
        self.stored_handle_by_old_path: dict[tuple[str, tuple[str, ...]], FolderHandle] = {}
        self.mentioned: dict[int, Folder] = {}
        self.new: list[Folder] = []
        self.paths: dict[FolderHandle, tuple[str, FolderPath]] = {}
        self.by_path: dict[tuple[str, tuple[str, ...]], FolderHandle] = {}

    @classmethod
    def build(cls, stored: Sequence[Folder], incoming: Sequence[Folder]) -> _FolderTree:
        tree = cls()
        for folder in stored:
            if folder.id is None:
                raise ValueError("stored folders carry their ids")
            tree.stored[folder.id] = folder
            tree.stored_handle_by_old_path[_fold_path(folder.workspace, folder.path)] = (
                "id",
                folder.id,
            )
        for folder in stored:
            assert folder.id is not None
            tree.stored_parent[folder.id] = tree._old_handle(folder.workspace, folder.parent_path)
        tree._match(incoming)
        return tree

    def _old_handle(self, workspace: str, path: FolderPath) -> FolderHandle:
        if not path:
            return ("root", fold_name(workspace))
        handle = self.stored_handle_by_old_path.get(_fold_path(workspace, path))
        if handle is None:
            raise ValueError(f"stored folder {_describe(workspace, path)} has no parent")
        return handle

    def _match(self, incoming: Sequence[Folder]) -> None:
        by_key = {f.key: i for i, f in self.stored.items() if f.key}
        pending: list[Folder] = []
        seen_keys: set[str] = set()
        for folder in incoming:
            if not folder.path:
                raise UserError(
                    f"folder definitions need a path below the workspace root "
                    f"(workspace {folder.workspace!r})"
                )
            if folder.key:
                if folder.key in seen_keys:
                    raise UserError(f"folder key {folder.key!r} is used twice")
                seen_keys.add(folder.key)
            stored_id = by_key.get(folder.key) if folder.key else None
            if stored_id is None:
                pending.append(folder)
                continue
            self._mention(stored_id, folder)
        self._compute_paths()
        for folder in pending:
            handle = self.by_path.get(_fold_path(folder.workspace, folder.path))
            if handle is not None and handle[0] == "id":
                stored_id = int(handle[1])
                candidate = self.stored[stored_id]
                if stored_id not in self.mentioned and (
                    folder.key is None or candidate.key is None
                ):
                    self._mention(stored_id, folder)
                    continue
            if handle is not None:
                raise UserError(
                    f"folder {_describe(folder.workspace, folder.path)} is defined twice"
                )
            self.new.append(replace(folder, id=None))
        self._add_implicit_parents()
        self._compute_paths()

    def _mention(self, stored_id: int, folder: Folder) -> None:
        stored = self.stored[stored_id]
        if fold_name(stored.workspace) != fold_name(folder.workspace):
            raise UserError(
                f"folder {_describe(folder.workspace, folder.path)} (key {folder.key!r}) "
                f"lives in workspace {stored.workspace!r}; folders cannot move to another "
                "workspace (WS-3)"
            )
        if stored_id in self.mentioned:
            raise UserError(f"folder {_describe(folder.workspace, folder.path)} is defined twice")
        if not (folder.description or folder.channel or folder.key):
            # Written only as a container of other definitions (declaring none of its own
            # attributes, like the loader's `declares_settings`): keep what is stored.
            folder = replace(folder, description=stored.description, channel=stored.channel)
        self.mentioned[stored_id] = replace(
            folder, id=stored_id, key=folder.key or stored.key, workspace=stored.workspace
        )

    def _compute_paths(self) -> None:
        self.paths = {}
        for stored_id in self.stored:
            self._path_of(("id", stored_id))
        for index, folder in enumerate(self.new):
            self.paths[("new", index)] = (folder.workspace, folder.path)
        self.by_path = {}
        for handle, (workspace, path) in self.paths.items():
            key = _fold_path(workspace, path)
            other = self.by_path.get(key)
            if other is not None:
                raise UserError(
                    f"two folders would have the path {_describe(workspace, path)}; "
                    "rename one of them"
                )
            self.by_path[key] = handle

    def _path_of(self, handle: FolderHandle) -> tuple[str, FolderPath]:
        known = self.paths.get(handle)
        if known is not None:
            return known
        stored_id = int(handle[1])
        stored = self.stored[stored_id]
        mentioned = self.mentioned.get(stored_id)
        if mentioned is not None:
            result = (stored.workspace, mentioned.path)
        else:
            parent = self.stored_parent[stored_id]
            if parent[0] == "root":
                result = (stored.workspace, (stored.name,))
            else:
                workspace, parent_path = self._path_of(parent)
                result = (workspace, (*parent_path, stored.name))
        self.paths[handle] = result
        return result

    def _add_implicit_parents(self) -> None:
        """``mkdir -p``: missing parents of incoming folders become plain folders."""
        self._compute_paths()
        known = set(self.by_path)
        wanted = [*self.mentioned.values(), *self.new]
        for folder in sorted(wanted, key=lambda f: len(f.path)):
            for depth in range(1, len(folder.path)):
                parent = folder.path[:depth]
                if _fold_path(folder.workspace, parent) not in known:
                    known.add(_fold_path(folder.workspace, parent))
                    self.new.append(Folder(workspace=folder.workspace, path=parent))

    def handle(self, workspace: str, path: FolderPath) -> FolderHandle | None:
        """The folder at ``path`` in the merged namespace (root for ``()``)."""
        if not path:
            return ("root", fold_name(workspace))
        return self.by_path.get(_fold_path(workspace, path))

    def stored_handle(self, workspace: str, old_path: FolderPath) -> FolderHandle:
        """The handle of a stored object's folder, given the path it was read with."""
        return self._old_handle(workspace, old_path)

    def new_path(self, handle: FolderHandle, workspace: str) -> FolderPath:
        if handle[0] == "root":
            return ()
        return self.paths[handle][1]

    def merged_folders(self) -> tuple[Folder, ...]:
        result: list[Folder] = []
        for stored_id, folder in self.stored.items():
            mentioned = self.mentioned.get(stored_id)
            result.append(mentioned or replace(folder, path=self.paths[("id", stored_id)][1]))
        result.extend(self.new)
        return tuple(result)

    def written_folders(self) -> tuple[Folder, ...]:
        return (*self.mentioned.values(), *self.new)


# -- generic matching ----------------------------------------------------------------


def _ws_identity(item: Workspace) -> Hashable:
    return fold_name(item.name)


def _name_identity(item: Channel | Webhook) -> Hashable:
    return fold_name(item.name)


def _merge_by(
    stored: Sequence[_T],
    incoming: Sequence[_T],
    kind: str,
    identity: Callable[[_T], Hashable],
) -> tuple[tuple[_T, ...], tuple[_T, ...]]:
    """Match by identity only; a matched item takes the stored item's id."""
    by_identity = {identity(s): s for s in stored}
    replaced: dict[Hashable, _T] = {}
    new: list[_T] = []
    seen: set[Hashable] = set()
    for item in incoming:
        name = identity(item)
        if name in seen:
            raise UserError(f"{kind} {getattr(item, 'name', name)!r} is defined twice")
        seen.add(name)
        target = by_identity.get(name)
        if target is None:
            new.append(item)
        else:
            replaced[name] = replace(item, id=getattr(target, "id", None))  # type: ignore[type-var]
    merged = tuple(replaced.get(identity(s), s) for s in stored) + tuple(new)
    return merged, tuple(replaced.values()) + tuple(new)


def _merge_keyed(
    stored: Sequence[_Keyed],
    incoming: Sequence[_Keyed],
    kind: str,
    identity: Callable[[_Keyed], Hashable],
    relocate: Callable[[_Keyed], _Keyed],
    adopt: Callable[[_Keyed, _Keyed], _Keyed] | None = None,
) -> tuple[tuple[_Keyed, ...], tuple[_Keyed, ...]]:
    """Match by key first, then by identity; ``relocate`` rewrites a stored item's folder."""
    by_key = {s.key: s for s in stored if s.key}
    by_identity = {identity(s): s for s in stored}
    written_by_id: dict[int, _Keyed] = {}
    written: list[_Keyed] = []
    keys: set[str] = set()
    new_identities: set[Hashable] = set()
    for item in incoming:
        if item.key:
            if item.key in keys:
                raise UserError(f"{kind} key {item.key!r} is used twice")
            keys.add(item.key)
        target = by_key.get(item.key) if item.key else None
        if target is None:
            candidate = by_identity.get(identity(item))
            if candidate is not None and (item.key is None or candidate.key is None):
                target = candidate
        if target is None:
            if identity(item) in new_identities:
                raise UserError(f"{kind} {item.name!r} is defined twice")
            new_identities.add(identity(item))
            written.append(replace(item, id=None))
            continue
        assert target.id is not None
        if target.id in written_by_id:
            raise UserError(f"{kind} {item.name!r} is defined twice")
        resolved = replace(item, id=target.id, key=item.key or target.key)
        if adopt is not None:
            resolved = adopt(target, resolved)
        written_by_id[target.id] = resolved
        written.append(resolved)
    new = [w for w in written if w.id is None]
    merged = tuple(
        written_by_id.get(s.id, relocate(s)) if s.id is not None else relocate(s) for s in stored
    )
    return merged + tuple(new), tuple(written)


# -- assets and tokens ---------------------------------------------------------------


def _merge_assets(
    tree: _FolderTree,
    stored: Sequence[_Asset],
    incoming: Sequence[_Asset],
    kind: str,
    adopt: Callable[[_Asset, _Asset], _Asset] | None = None,
    *,
    per_folder: bool = False,
) -> tuple[tuple[_Asset, ...], tuple[_Asset, ...]]:
    stored_ids = {id(s) for s in stored}

    def identity(item: _Asset) -> Hashable:
        if not per_folder:
            return ("workspace", fold_name(item.workspace), fold_name(item.name))
        if id(item) in stored_ids:
            handle: FolderHandle | None = tree.stored_handle(item.workspace, item.folder)
        else:
            handle = tree.handle(item.workspace, item.folder)
        if handle is None:  # an unknown folder never matches; apply reports it
            return ("missing", *_fold_path(item.workspace, item.folder), fold_name(item.name))
        return (handle, fold_name(item.name))

    def relocate(item: _Asset) -> _Asset:
        handle = tree.stored_handle(item.workspace, item.folder)
        return replace(item, folder=tree.new_path(handle, item.workspace))

    def check(target: _Asset, item: _Asset) -> _Asset:
        if fold_name(target.workspace) != fold_name(item.workspace):
            raise UserError(
                f"{kind} {item.name!r} (key {item.key!r}) lives in workspace "
                f"{target.workspace!r}; assets cannot move to another workspace (WS-3)"
            )
        return adopt(target, item) if adopt is not None else item

    return _merge_keyed(stored, incoming, kind, identity, relocate, check)


def _merge_tokens(
    tree: _FolderTree, stored: Sequence[MyToken], incoming: Sequence[MyToken]
) -> tuple[tuple[MyToken, ...], tuple[MyToken, ...]]:
    def location(token: MyToken, *, is_stored: bool) -> Hashable:
        if token.workspace is None:
            return None
        folder = token.folder or ()
        if is_stored:
            return tree.stored_handle(token.workspace, folder)
        return tree.handle(token.workspace, folder) or (
            "missing",
            *_fold_path(token.workspace, folder),
        )

    by_identity = {(location(t, is_stored=True), fold_name(t.name)): t for t in stored}
    replaced: dict[Hashable, MyToken] = {}
    new: list[MyToken] = []
    seen: set[Hashable] = set()
    for token in incoming:
        identity = (location(token, is_stored=False), fold_name(token.name))
        if identity in seen:
            raise UserError(f"My Token {token.name!r} is defined twice at one location")
        seen.add(identity)
        if identity in by_identity:
            replaced[identity] = token
        else:
            new.append(token)

    def relocate(token: MyToken) -> MyToken:
        if token.workspace is None:
            return token
        handle = tree.stored_handle(token.workspace, token.folder or ())
        return replace(token, folder=tree.new_path(handle, token.workspace))

    merged = tuple(
        replaced.get((location(t, is_stored=True), fold_name(t.name))) or relocate(t)
        for t in stored
    )
    return merged + tuple(new), tuple(replaced.values()) + tuple(new)


# -- fields, activity types, campaigns -----------------------------------------------


def _merge_fields(
    stored: Sequence[FieldDef], incoming: Sequence[FieldDef]
) -> tuple[tuple[FieldDef, ...], tuple[FieldDef, ...]]:
    by_name = {fold_name(f.name): f for f in stored}
    columns = {f.column: f.name for f in stored}
    written: dict[str, FieldDef] = {}
    for field in incoming:
        name = fold_name(field.name)
        if name in written:
            raise UserError(f"field {field.name!r} is defined twice")
        if name in _STANDARD_FIELD_NAMES:
            raise UserError(
                f"field {field.name!r} is a standard field (GEN-10); give the custom field "
                "another name"
            )
        target = by_name.get(name)
        if target is not None:
            if target.data_type != field.data_type:
                raise UserError(
                    f"field {field.name!r} is stored as {target.data_type.value}; its type "
                    f"cannot change to {field.data_type.value}. Keep the type or define a "
                    "new field"
                )
            written[name] = replace(field, name=target.name, column=target.column, is_custom=True)
            continue
        try:
            column = custom_column_name(field.name)
        except ValueError:
            raise UserError(
                f"field name {field.name!r} is not usable: start with a letter, then letters, "
                "digits or underscores (at most 63 characters)"
            ) from None
        clash = columns.get(column)
        if clash is not None:
            raise UserError(
                f"fields {clash!r} and {field.name!r} would share the column {column!r}; "
                "rename one of them"
            )
        columns[column] = field.name
        written[name] = replace(field, column=column, is_custom=True)
    merged = tuple(written.get(fold_name(f.name), f) for f in stored)
    new = tuple(f for n, f in written.items() if n not in by_name)
    return merged + new, tuple(written.values())


def _merge_activity_types(
    stored: Sequence[ActivityTypeDef], incoming: Sequence[ActivityTypeDef]
) -> tuple[tuple[ActivityTypeDef, ...], tuple[ActivityTypeDef, ...]]:
    for activity_type in incoming:
        if activity_type.id < CUSTOM_ACTIVITY_TYPE_MIN_ID:
            raise UserError(
                f"custom activity type {activity_type.name!r} needs an id of at least "
                f"{CUSTOM_ACTIVITY_TYPE_MIN_ID} (ACT-10), not {activity_type.id}"
            )
    custom = [replace(t, is_custom=True) for t in incoming]
    return _merge_by(stored, custom, "activity type", lambda t: t.id)


def _adopt_campaign(before: Campaign, campaign: Campaign) -> Campaign:
    """EXE-1: the executable flag never changes; activation stays runtime state (CMP-12/13)."""
    if before.executable != campaign.executable:
        state = "executable" if before.executable else "not executable"
        raise UserError(
            f"campaign {campaign.name!r} is {state}; the executable flag is fixed when a "
            "campaign is created (EXE-1). Keep it, or clone the campaign under a new name"
        )
    return replace(campaign, active=before.active)
