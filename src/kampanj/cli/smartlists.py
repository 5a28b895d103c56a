"""`kampanj smart-list count|members` and `kampanj explain --smart-list` (SL-7, EXPL-1)."""

from __future__ import annotations

from datetime import date, datetime
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
from kampanj.clock import SystemClock
from kampanj.errors import UserError
from kampanj.smartlist.evaluation import (
    DEFAULT_WORKSPACE,
    LoadedSmartList,
    count_members,
    load_smart_list,
    member_ids,
)
from kampanj.smartlist.explain import explain_rules

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


@handle_user_errors
def explain_command(
    smart_list: Annotated[
        str | None, typer.Option("--smart-list", help="Stand-alone smart list to explain.")
    ] = None,
    person: Annotated[int | None, typer.Option("--person", help="Person id.")] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why a person is or is not in a smart list (EXPL-1, EXPL-2)."""
    if smart_list is None:
        raise UserError("name what to explain: --smart-list NAME (campaigns come later)")
    if person is None:
        raise UserError("name the person to explain: --person ID")
    database = open_database(db)
    with database.read() as connection:
        loaded = load_smart_list(connection, SystemClock(), smart_list, workspace=workspace)
        explanation = explain_rules(connection, loaded.smart_list.rules, loaded.context, person)
    if as_json:
        print_json({"smartList": loaded.smart_list.name, **explanation.to_json()})
        return
    verdict = "qualifies" if explanation.result else "does not qualify"
    console.print(
        f"Person {person} {verdict} for smart list {loaded.smart_list.name!r}", highlight=False
    )
    for problem in explanation.problems:
        console.print(f"  invalid: {problem}", highlight=False)
    for item in explanation.filters:
        mark = "pass" if item.passed else "fail"
        console.print(f"  {item.number}. {item.name}: {mark}", highlight=False)
        for key, value in item.details.items():
            console.print(f"       {key}: {_plain(value)}", highlight=False)
    for step in explanation.steps:
        console.print(f"  {step.expression} = {str(step.value).lower()}", highlight=False)


def _plain(value: Any) -> str:
    """A detail value as a person reads it: ISO instants, lists and maps without quotes."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "(empty)"
    return str(value).lower() if isinstance(value, bool) else str(value)


def register(root: typer.Typer) -> None:
    """Add ``smart-list`` and ``explain`` to the root application."""
    root.add_typer(app, name="smart-list")
    root.command("explain")(explain_command)
