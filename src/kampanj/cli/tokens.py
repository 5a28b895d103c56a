"""`kampanj tokens show`: the My Tokens visible at a folder, program or campaign (PROV-2)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.errors import NotFoundError, UserError
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign
from kampanj.model.tree import DEFAULT_WORKSPACE
from kampanj.tokens.stored import load_token_tree
from kampanj.tokens.tree import Location, LocationType, TokenTree, VisibleToken, token_key

app = typer.Typer(help="My Tokens: what a folder, program or campaign sees.", no_args_is_help=True)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Target:
    location: Location
    campaign: Campaign | None = None


def _describe(target: _Target) -> str:
    if target.campaign is not None:
        return f"campaign {'/'.join((target.location.display, target.campaign.name))}"
    kind = "program" if target.location.type is LocationType.PROGRAM else "folder"
    return f"{kind} {target.location.display}"


def find_target(definitions: Definitions, tree: TokenTree, workspace: str, name: str) -> _Target:
    """A folder, program or campaign of ``workspace`` by name or ``A/B/C`` path, any case."""
    wanted = token_key(name)
    workspaces = [w.name for w in definitions.workspaces]
    if token_key(workspace) not in {token_key(w) for w in workspaces}:
        raise NotFoundError(
            f"there is no workspace named {workspace!r}{_hint(workspace, workspaces)}"
        )
    in_workspace = [
        loc for loc in tree.containers() if token_key(loc.workspace or "") == token_key(workspace)
    ]
    root = tree.location(next(w for w in workspaces if token_key(w) == token_key(workspace)), ())
    campaigns = [c for c in definitions.campaigns if token_key(c.workspace) == token_key(workspace)]
    found: list[_Target] = []
    if wanted in (token_key(root.name), "/"):
        found.append(_Target(location=root))
    for location in in_workspace:
        if wanted in (token_key(location.name), token_key("/".join(location.path))):
            found.append(_Target(location=location))
    for campaign in campaigns:
        full = "/".join((*campaign.folder, campaign.name))
        if wanted in (token_key(campaign.name), token_key(full)):
            found.append(
                _Target(
                    location=tree.location(campaign.workspace, campaign.folder), campaign=campaign
                )
            )
    if len(found) == 1:
        return found[0]
    if found:
        listed = "; ".join(_describe(t) for t in found)
        raise UserError(
            f"{name!r} names {len(found)} things in workspace {workspace!r} ({listed}); "
            "write the path, e.g. 'Folder/Program' or 'Folder/Program/Campaign'"
        )
    names = [loc.name for loc in in_workspace] + [c.name for c in campaigns]
    raise NotFoundError(
        f"no folder, program or campaign named {name!r} in workspace {workspace!r}"
        f"{_hint(name, names)}"
    )


def _hint(name: str, candidates: list[str]) -> str:
    options = list(dict.fromkeys(candidates))
    lowered = {o.casefold(): o for o in options}
    close = [lowered[c] for c in difflib.get_close_matches(name.casefold(), lowered, n=3)]
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _folder_json(location: Location) -> dict[str, Any]:
    """API-40 ``folder``: ``{type: Folder|Program, value: id}`` plus name and path."""
    kind = "Program" if location.type is LocationType.PROGRAM else "Folder"
    return {"type": kind, "value": location.id, "name": location.name, "path": location.display}


def _token_json(token: VisibleToken) -> dict[str, Any]:
    return {
        "name": token.name,
        "type": token.type.value,
        "value": token.value,
        "status": token.status.value,
        "definedAt": token.defined_at.to_json(),
    }


@app.command("show")
@handle_user_errors
def show_command(
    name: Annotated[
        str,
        typer.Argument(
            help="Folder, program or campaign: a name or a path such as 'Folder/Program'.",
            metavar="PROGRAM_OR_FOLDER_OR_CAMPAIGN",
        ),
    ],
    workspace: Annotated[
        str, typer.Option("--workspace", help="Workspace to look in.")
    ] = DEFAULT_WORKSPACE,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every My Token visible there: value, type, status and where it is defined (TOK-11)."""
    database = open_database(db)
    with database.read() as connection:
        tree, definitions = load_token_tree(connection)
    target = find_target(definitions, tree, workspace, name)
    location = target.location
    tokens = tree.visible(location.workspace or workspace, location.path)
    if as_json:
        document: dict[str, Any] = {
            "folder": _folder_json(location),
            "tokens": [_token_json(t) for t in tokens],
        }
        if target.campaign is not None:
            document["campaign"] = {"id": target.campaign.id, "name": target.campaign.name}
        print_json(document)
        return
    console.print(f"My Tokens visible at {_describe(target)}", highlight=False)
    if not tokens:
        console.print("  (none)")
        return
    rows = [
        (
            "{{my." + token.name + "}}",
            token.type.value,
            token.value.replace("\n", "\\n"),
            token.status.value,
            token.defined_at.display,
        )
        for token in tokens
    ]
    header = ("TOKEN", "TYPE", "VALUE", "STATUS", "DEFINED AT")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  " + "  ".join((*cells, row[-1])))


def register(root: typer.Typer) -> None:
    """Add ``tokens`` to the root application."""
    root.add_typer(app, name="tokens")
