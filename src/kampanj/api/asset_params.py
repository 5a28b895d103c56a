"""Asset API parameters and answers shared by its endpoints (API-7, API-23, LIM-5)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from kampanj.api.envelope import (
    BLANK,
    BUSINESS_RULE,
    NO_ASSET,
    ApiError,
    Issue,
    Reply,
    success_body,
)
from kampanj.api.formats import parse_instant
from kampanj.api.security import Caller
from kampanj.api.tree import Tree
from kampanj.model.tree import FolderKind, FolderPath
from kampanj.store.repositories.reading import load_folder_index

PARENT_NOT_FOUND = "710"
T = TypeVar("T")

DEFAULT_MAX_RETURN = 20  # API-7, LIM-5
MAX_MAX_RETURN = 200
NO_ASSETS = "No assets found for the given search criteria."


def window(max_return: str | None, offset: str | None) -> tuple[int, int]:
    """``maxReturn`` (1-200, default 20) and ``offset`` (≥ 0), else 709 (API-7)."""
    try:
        size = int(max_return) if max_return not in (None, "") else DEFAULT_MAX_RETURN
        start = int(offset) if offset not in (None, "") else 0
    except ValueError:
        size, start = 0, -1
    if not 1 <= size <= MAX_MAX_RETURN:
        raise ApiError(BUSINESS_RULE, f"maxReturn must be 1-{MAX_MAX_RETURN}")
    if start < 0:
        raise ApiError(BUSINESS_RULE, "offset must be a whole number ≥ 0")
    return size, start


def reply(items: Sequence[Any]) -> dict[str, Any]:
    """Records, or an empty result with warning 702 (API-23)."""
    if not items:
        return success_body(Reply(result=[], warnings=[Issue(code=NO_ASSET, message=NO_ASSETS)]))
    return success_body(Reply(result=items))


def page(items: list[T], size: int, start: int) -> list[T]:
    return items[start : start + size]


def folder_filter(tree: Tree, raw: str | None) -> set[int] | None:
    """``folder={"id":…,"type":"Folder|Program"}`` → the folder ids beneath it, or None."""
    if not raw:
        return None
    try:
        document = json.loads(raw)
        folder_id = int(document["id"])
        kind = FolderKind(str(document.get("type", "Folder")).title())
    except (ValueError, KeyError, TypeError):
        raise ApiError(
            BUSINESS_RULE, 'folder must be JSON like {"id": 12, "type": "Folder"}'
        ) from None
    row = tree.folders.get(folder_id)
    if row is None or row.kind is not kind:
        return set()
    return tree.beneath(folder_id)


def updated_between(earliest: str | None, latest: str | None) -> Callable[[datetime], bool]:
    low = parse_instant(earliest, "earliestUpdatedAt") if earliest else None
    high = parse_instant(latest, "latestUpdatedAt") if latest else None
    return lambda at: (low is None or at >= low) and (high is None or at <= high)


def target_folder(connection: Connection, caller: Caller, raw: object) -> tuple[str, FolderPath]:
    """``folder`` (JSON text or object ``{id, type}``) → workspace and path; 701 / 710 / 709."""
    if raw is None or raw == "":
        raise ApiError(BLANK, "folder cannot be blank")
    shape = 'folder must be like {"id": 12, "type": "Folder"}'
    try:
        document = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(document, dict):
            raise ValueError(shape)
        folder_id = int(document["id"])
        kind = FolderKind(str(document.get("type", "Folder")).title())
    except (ValueError, KeyError, TypeError):
        raise ApiError(BUSINESS_RULE, shape) from None
    tree = Tree(connection)
    row = tree.folders.get(folder_id)
    if row is None or row.kind is not kind:
        raise ApiError(PARENT_NOT_FOUND, f"{kind.value} {folder_id} not found")
    workspace = tree.workspace_of(folder_id)
    caller.check_workspace(workspace, f"folder {folder_id}")
    if row.parent_id is None:
        raise ApiError(BUSINESS_RULE, "Assets live in folders and programs, not in the root")
    return workspace, load_folder_index(connection).path_of(folder_id)
