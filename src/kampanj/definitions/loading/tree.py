"""Reading the workspace tree: the workspace, folders and programs and what they hold.

Smart lists and campaigns are only shape-checked here and queued as ``Pending``; they
are converted once every file has contributed its fields and activity types.
"""

from __future__ import annotations

from typing import Any

from kampanj.definitions import document as d
from kampanj.definitions.loading.account import read_tokens
from kampanj.definitions.loading.shape import read_model
from kampanj.definitions.loading.state import FolderDecl, LoadState, Pending
from kampanj.definitions.sources import folder_key
from kampanj.definitions.yaml_source import DataPath, YamlDocument
from kampanj.model.assets import Email
from kampanj.model.names import fold
from kampanj.model.smartlists import StaticList
from kampanj.model.tree import DEFAULT_WORKSPACE, Folder, FolderKind, FolderPath, Workspace

__all__ = ["read_folder", "read_workspace"]


def read_workspace(state: LoadState, raw: str | d.WorkspaceDoc | None, source: YamlDocument) -> str:
    """Register the document's workspace; returns its name as first written."""
    if raw is None or isinstance(raw, str):
        name = raw or DEFAULT_WORKSPACE
        description = ""
        tokens: dict[str, Any] = {}
    else:
        name, description, tokens = raw.name, raw.description, raw.tokens
    folded = fold(name)
    existing = state.workspaces.get(folded)
    declares = bool(description or tokens)
    if existing is None:
        state.workspaces[folded] = Workspace(name=name, description=description)
        state.workspace_described[folded] = None
        state.start(state.workspaces[folded], source, ("workspace",))
    elif declares and state.workspace_described.get(folded) is not None:
        first = state.workspace_described[folded]
        state.report(
            "DUPLICATE_NAME",
            f"workspace {name!r} has its description or tokens declared twice (first at "
            f"{first}); declare them in one file",
            source,
            ("workspace",),
        )
    elif declares:
        state.workspaces[folded] = Workspace(name=existing.name, description=description)
    if declares and state.workspace_described.get(folded) is None:
        state.workspace_described[folded] = state.where(source, ("workspace",))
    workspace = state.workspaces[folded].name
    read_tokens(state, tokens, source, ("workspace", "tokens"), workspace, ())
    return workspace


def read_folder(
    state: LoadState,
    raw: Any,
    source: YamlDocument,
    path: DataPath,
    workspace: str,
    parent: FolderPath,
    kind: FolderKind,
) -> None:
    """A folder or program and, recursively, everything inside it."""
    model: type[d.FolderDoc] = d.ProgramDoc if kind is FolderKind.PROGRAM else d.FolderDoc
    label = "program" if kind is FolderKind.PROGRAM else "folder"
    name = raw.get("name") if isinstance(raw, dict) else None
    doc = read_model(state, model, raw, source, path, f"{label} {name!r}" if name else label)
    if doc is None:
        return
    folder_path = (*parent, doc.name)
    folder = Folder(
        workspace=workspace,
        path=folder_path,
        kind=kind,
        description=doc.description,
        channel=doc.channel if isinstance(doc, d.ProgramDoc) else None,
        key=doc.key,
    )
    _declare_folder(state, folder, doc.declares_settings(), source, path)
    read_tokens(state, doc.tokens, source, (*path, "tokens"), workspace, folder_path)
    for index, child in enumerate(doc.folders):
        read_folder(
            state,
            child,
            source,
            (*path, "folders", index),
            workspace,
            folder_path,
            FolderKind.FOLDER,
        )
    for index, child in enumerate(doc.programs):
        read_folder(
            state,
            child,
            source,
            (*path, "programs", index),
            workspace,
            folder_path,
            FolderKind.PROGRAM,
        )
    for index, child in enumerate(doc.lists):
        _read_static_list(state, child, source, (*path, "lists", index), workspace, folder_path)
    for index, child in enumerate(doc.smart_lists):
        item_path = (*path, "smartLists", index)
        smart = read_model(state, d.SmartListDoc, child, source, item_path, "smart list")
        if smart is not None:
            state.pending.append(
                Pending(
                    doc=smart,
                    source=source,
                    path=item_path,
                    workspace=workspace,
                    folder=folder_path,
                )
            )
    for index, child in enumerate(doc.emails):
        _read_email(state, child, source, (*path, "emails", index), workspace, folder_path)
    for index, child in enumerate(doc.campaigns):
        item_path = (*path, "campaigns", index)
        name = child.get("name") if isinstance(child, dict) else None
        campaign = read_model(
            state,
            d.CampaignDoc,
            child,
            source,
            item_path,
            f"campaign {name!r}" if name else "campaign",
            campaign=str(name) if name else None,
        )
        if campaign is not None:
            state.pending.append(
                Pending(
                    doc=campaign,
                    source=source,
                    path=item_path,
                    workspace=workspace,
                    folder=folder_path,
                )
            )


def _declare_folder(
    state: LoadState, folder: Folder, declares: bool, source: YamlDocument, path: DataPath
) -> None:
    """One container per path: contents may come from many places, attributes from one."""
    key = folder_key(folder.workspace, folder.path)
    where = state.where(source, path)
    existing = state.folders.get(key)
    label = "/".join(folder.path)
    if existing is None:
        state.folders[key] = FolderDecl(folder=folder, declared_settings=declares, where=where)
        occurrence = state.start(folder, source, path)
        state.mark(folder, occurrence, "channel", source, (*path, "channel"))
        return
    if existing.folder.kind is not folder.kind:
        state.report(
            "DUPLICATE_NAME",
            f"{label!r} is declared as a {folder.kind.value.lower()} here and as a "
            f"{existing.folder.kind.value.lower()} at {existing.where}; "
            "a container is either a folder or a program",
            source,
            path,
        )
        return
    if declares and existing.declared_settings:
        state.report(
            "DUPLICATE_NAME",
            f"{folder.kind.value.lower()} {label!r} declares its own attributes "
            f"(description, key, tokens, channel) here and at {existing.where}; declare "
            "them in one place and list only contents elsewhere",
            source,
            path,
        )
        return
    if declares:
        state.folders[key] = FolderDecl(folder=folder, declared_settings=True, where=where)
        if where is not None:
            state.sources.record(folder, "channel", where, occurrence=0)


def _read_static_list(
    state: LoadState,
    raw: Any,
    source: YamlDocument,
    path: DataPath,
    workspace: str,
    folder: FolderPath,
) -> None:
    doc = read_model(state, d.ListDoc, raw, source, path, "list")
    if doc is None:
        return
    static = StaticList(
        workspace=workspace,
        folder=folder,
        name=doc.name,
        description=doc.description,
        key=doc.key,
    )
    state.static_lists.append(static)
    state.start(static, source, path)


def _read_email(
    state: LoadState,
    raw: Any,
    source: YamlDocument,
    path: DataPath,
    workspace: str,
    folder: FolderPath,
) -> None:
    doc = read_model(state, d.EmailDoc, raw, source, path, "email")
    if doc is None:
        return
    email = Email(
        workspace=workspace,
        folder=folder,
        name=doc.name,
        subject=doc.subject,
        from_name=doc.from_name,
        from_email=doc.from_email,
        reply_to=doc.reply_to,
        html=doc.html,
        text=doc.text,
        operational=doc.operational,
        approved=doc.approved,
        key=doc.key,
    )
    state.emails.append(email)
    occurrence = state.start(email, source, path)
    state.mark_keys(email, occurrence, raw, source, path)
