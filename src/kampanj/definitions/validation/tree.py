"""Workspaces, folders and programs: placement, uniqueness and channels."""

from __future__ import annotations

from kampanj.definitions.sources import folder_key
from kampanj.definitions.validation.context import Context, occurrences
from kampanj.definitions.validation.hints import suggest
from kampanj.definitions.validation.names import check_duplicate_keys, check_duplicate_names
from kampanj.model.names import fold
from kampanj.model.tree import Folder, FolderPath

__all__ = ["check_tree", "folder_exists", "nearest_program"]


def folder_exists(ctx: Context, workspace: str, path: FolderPath) -> bool:
    """True for the workspace root and for every defined folder or program."""
    return not path or folder_key(workspace, path) in ctx.folders


def nearest_program(ctx: Context, workspace: str, path: FolderPath) -> Folder | None:
    """The innermost program that holds ``path``, if any."""
    for end in range(len(path), 0, -1):
        folder = ctx.folders.get(folder_key(workspace, path[:end]))
        if folder is not None and folder.is_program:
            return folder
    return None


def check_tree(ctx: Context) -> None:
    """Duplicate and dangling workspaces, folders and programs; unknown channels."""
    check_duplicate_names(ctx, ctx.d.workspaces, lambda w: fold(w.name), "workspace", "")
    workspaces = {fold(w.name) for w in ctx.d.workspaces}
    seen: set[str] = set()
    for folder, occurrence in occurrences(ctx.d.folders):
        assert isinstance(folder, Folder)
        scope = ctx.scope_of(folder, occurrence)
        label = f"{folder.kind.value.lower()} {'/'.join(folder.path)!r}"
        key = folder_key(folder.workspace, folder.path)
        if key in seen:
            ctx.add(
                "DUPLICATE_NAME",
                f"{label} is defined twice in workspace {folder.workspace!r}",
                scope,
            )
        seen.add(key)
        if workspaces and fold(folder.workspace) not in workspaces:
            ctx.add(
                "REF_UNKNOWN",
                f"{label} is in unknown workspace {folder.workspace!r}",
                scope,
            )
        if not folder_exists(ctx, folder.workspace, folder.parent_path):
            ctx.add(
                "REF_UNKNOWN",
                f"{label}: parent {'/'.join(folder.parent_path)!r} does not exist",
                scope,
            )
        if folder.is_program and folder.channel and fold(folder.channel) not in ctx.channels:
            ctx.add(
                "REF_UNKNOWN",
                f"program {folder.name!r} uses unknown channel {folder.channel!r}; define it "
                "under 'channels:'" + suggest(folder.channel, [c.name for c in ctx.d.channels]),
                scope,
                "channel",
            )
    for names in ctx.by_workspace["program"].values():
        for programs in names.values():
            for program in programs[1:]:
                ctx.add(
                    "DUPLICATE_NAME",
                    f"program {program.name!r} exists twice in workspace "  # type: ignore[attr-defined]
                    f"{program.workspace!r}; program names are unique per workspace",  # type: ignore[attr-defined]
                    ctx.scope_of(program),
                )
    check_duplicate_keys(ctx, ctx.d.folders, "folder or program")
