"""My Tokens of a folder or program: read, create or update, delete (API-40, API-41)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection, delete

from kampanj.api.asset_views import base_url
from kampanj.api.envelope import BLANK, BUSINESS_RULE, NO_ASSET, ApiError, Reply, success_body
from kampanj.api.requests import json_or_form_body
from kampanj.api.security import Caller, Reader, Writer
from kampanj.api.validation import refuse_new_errors
from kampanj.model.account import Definitions
from kampanj.model.names import fold
from kampanj.model.tokens import MyToken, MyTokenType, my_token_value_problem, token_name_problem
from kampanj.model.tree import FolderKind, FolderPath
from kampanj.store.definitions_repo import apply_definitions, merge, read_definitions
from kampanj.store.repositories.reading import load_folder_index
from kampanj.store.schema import folder, my_token
from kampanj.tokens.stored import load_token_tree

router = APIRouter(prefix="/rest/asset/v1/folder", tags=["tokens"])


def _folder(
    connection: Connection, caller: Caller, folder_id: int, folder_type: str | None
) -> tuple[str, FolderPath, FolderKind]:
    """Workspace, path and kind of the folder; 702 if unknown or of another type."""
    index = load_folder_index(connection)
    if folder_id not in index.locations:
        raise ApiError(NO_ASSET, f"Folder {folder_id} not found")
    kind_row = connection.execute(
        folder.select().with_only_columns(folder.c.kind).where(folder.c.id == folder_id)
    ).scalar_one()
    kind = FolderKind(kind_row)
    if folder_type and fold(folder_type) != fold(kind.value):
        raise ApiError(NO_ASSET, f"{folder_type} {folder_id} not found")
    workspace = index.workspace_of(folder_id)
    caller.check_workspace(workspace, f"folder {folder_id}")
    return workspace, index.path_of(folder_id), kind


def _tokens_reply(
    connection: Connection, folder_id: int, workspace: str, path: FolderPath, kind: FolderKind
) -> dict[str, Any]:
    tree, _ = load_token_tree(connection)
    url = base_url(connection).rstrip("/")
    tokens = [
        {
            "name": t.name,
            "type": t.type.value,
            "value": t.value,
            "computedUrl": f"{url}/#{'PG' if kind is FolderKind.PROGRAM else 'MF'}{folder_id}A1",
            "status": t.status.value,
        }
        for t in tree.visible(workspace, path)
    ]
    folder_ref = {"type": kind.value, "value": folder_id}
    return success_body(Reply(result=[{"folder": folder_ref, "tokens": tokens}]))


@router.get("/{folder_id:int}/tokens.json")
def get_tokens(
    caller: Reader,
    folder_id: int,
    folder_type: Annotated[str | None, Query(alias="folderType")] = None,
) -> dict[str, Any]:
    """Every My Token visible at the folder, by name, with status (API-40, TOK-11)."""
    with caller.context.database.read() as connection:
        workspace, path, kind = _folder(connection, caller, folder_id, folder_type)
        return _tokens_reply(connection, folder_id, workspace, path, kind)


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or str(value).strip() == "":
        raise ApiError(BLANK, f"{name} cannot be blank")
    return str(value)


def _token_type(raw: str) -> MyTokenType:
    for candidate in MyTokenType:
        if fold(candidate.value) == fold(raw):
            return candidate
    names = ", ".join(t.value for t in MyTokenType)
    raise ApiError(BUSINESS_RULE, f"Invalid token type {raw!r}; use one of {names}")


@router.post("/{folder_id:int}/tokens.json")
def save_token(
    caller: Writer,
    folder_id: int,
    body: Annotated[dict[str, Any], Depends(json_or_form_body)],
) -> dict[str, Any]:
    """Create or update a local My Token, then answer like the GET (API-41, TOK-10)."""
    name = _required(body, "name").strip()
    token_type = _token_type(_required(body, "type"))
    value = body.get("value")
    if value is None:
        raise ApiError(BLANK, "value cannot be blank")
    value = str(value)
    problem = token_name_problem(name) or my_token_value_problem(token_type, value)
    if problem is not None:
        raise ApiError(BUSINESS_RULE, problem)
    with caller.context.database.begin() as connection:
        workspace, path, kind = _folder(
            connection, caller, folder_id, body.get("folderType") or None
        )
        stored = read_definitions(connection)
        incoming = Definitions(
            tokens=(
                MyToken(name=name, type=token_type, value=value, workspace=workspace, folder=path),
            )
        )
        refuse_new_errors(stored, merge(stored, incoming))
        apply_definitions(connection, incoming, clock=caller.context.clock)
        return _tokens_reply(connection, folder_id, workspace, path, kind)


@router.post("/{folder_id:int}/tokens/delete.json")
def delete_token(
    caller: Writer,
    folder_id: int,
    body: Annotated[dict[str, Any], Depends(json_or_form_body)],
) -> dict[str, Any]:
    """Delete a token defined at this folder (API-41); inherited ones → 709."""
    name = _required(body, "name")
    _token_type(_required(body, "type"))
    with caller.context.database.begin() as connection:
        _folder(connection, caller, folder_id, body.get("folderType") or None)
        removed = connection.execute(
            delete(my_token).where(
                my_token.c.folder_id == folder_id, my_token.c.name_key == fold(name)
            )
        ).rowcount
        if not removed:
            raise ApiError(
                BUSINESS_RULE, f"Token {name!r} is not defined locally at folder {folder_id}"
            )
    return success_body(Reply(result=[{"id": folder_id}]))
