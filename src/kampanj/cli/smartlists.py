"""`kampanj smart-list count|members` (SL-7); registers `kampanj explain` too (EXPL-1)."""

from __future__ import annotations

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
from kampanj.cli.explain import explain_command
from kampanj.clock import SystemClock
from kampanj.smartlist.evaluation import (
    DEFAULT_WORKSPACE,
    LoadedSmartList,
    count_members,
    load_smart_list,
    member_ids,
)

app = typer.Typer(help="Who a stand-alone smart list qualifies right now.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="Smart list name (case-insensitive).")]
WorkspaceOption = Annotated[
    str, typer.Option("--workspace", help="Workspace owning the smart list.")
]


def _warn_invalid(loaded: LoadedSmartList, as_json: bool) -> None:
    if loaded.compiled.problems and not as_json:
        console.print(
            f"[yellow]smart list {loaded.smart_list.name!r} is invalid and qualifies nobody "
            "(SL-10):[/]",
            highlight=False,
        )
        for problem in loaded.compiled.problems:
            console.print(f"  - {problem}", highlight=False)


def _invalid_fields(loaded: LoadedSmartList) -> dict[str, Any]:
    if not loaded.compiled.problems:
        return {}
    return {"valid": False, "problems": list(loaded.compiled.problems)}


@app.command("count")
@handle_user_errors
def count_command(
    name: NameArgument,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """How many people the smart list qualifies now."""
    database = open_database(db)
    with database.read() as connection:
        loaded = load_smart_list(connection, SystemClock(), name, workspace=workspace)
        count = count_members(connection, loaded)
    if as_json:
        print_json({"count": count, **_invalid_fields(loaded)})
        return
    _warn_invalid(loaded, as_json)
    console.print(f"{loaded.smart_list.name}: {count} people", highlight=False)


@app.command("members")
@handle_user_errors
def members_command(
    name: NameArgument,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most this many ids (lowest first).")
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Person ids the smart list qualifies now, ascending."""
    database = open_database(db)
    with database.read() as connection:
        loaded = load_smart_list(connection, SystemClock(), name, workspace=workspace)
        ids = member_ids(connection, loaded, limit)
    if as_json:
        print_json({"members": ids, **_invalid_fields(loaded)})
        return
    _warn_invalid(loaded, as_json)
    for person_id in ids:
        typer.echo(person_id)


def register(root: typer.Typer) -> None:
    """Add ``smart-list`` and ``explain`` to the root application."""
    root.add_typer(app, name="smart-list")
    root.command("explain")(explain_command)
