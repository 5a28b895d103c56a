"""The token tree of a stored account: the edge between the store and token resolution."""

from __future__ import annotations

from sqlalchemy import Connection

from kampanj.model.account import Definitions
from kampanj.store.definitions_repo import read_definitions
from kampanj.store.repositories.reading import load_folder_index
from kampanj.tokens.tree import TokenTree


def root_folder_ids(connection: Connection) -> dict[str, int]:
    """Workspace name → id of its root folder."""
    index = load_folder_index(connection)
    return {
        index.workspace_names[workspace_id]: folder_id
        for folder_id, (workspace_id, path) in index.locations.items()
        if not path
    }


def load_token_tree(
    connection: Connection, definitions: Definitions | None = None
) -> tuple[TokenTree, Definitions]:
    """The stored My Tokens and containers as a `TokenTree`, with the definitions read."""
    stored = definitions if definitions is not None else read_definitions(connection)
    tree = TokenTree.from_definitions(stored, root_folder_ids=root_folder_ids(connection))
    return tree, stored
