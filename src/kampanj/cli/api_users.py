"""`kampanj api-user create|list`: REST API users (API-8, WS-5).

The secret is printed once, at creation; only its salted hash is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kampanj.api.users import ApiUser, Role, create_api_user, list_users
from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.clock import SystemClock

app = typer.Typer(help="REST API users: credentials, roles, workspaces.", no_args_is_help=True)


def _user_json(user: ApiUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "clientId": user.client_id,
        "role": user.role.value,
        "workspaces": ["*"] if user.workspaces is None else list(user.workspaces),
        "createdAt": user.created_at.isoformat(),
    }


@app.command("create")
@handle_user_errors
def create_command(
    name: Annotated[str, typer.Argument(help="A unique name for the API user.")],
    role: Annotated[
        Role, typer.Option("--role", help="read_only, read_write or execute_campaign.")
    ],
    workspace: Annotated[
        list[str],
        typer.Option("--workspace", help="A workspace it may reach; repeat, or '*' for all."),
    ],
    email: Annotated[
        str | None, typer.Option("--email", help="Reported as the token scope.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API user and print its client id and secret (shown only this once)."""
    database = open_database(db)
    with database.begin() as connection:
        created = create_api_user(
            connection,
            name=name,
            role=role,
            workspaces=tuple(workspace),
            email=email,
            now=SystemClock().now(),
        )
    if as_json:
        print_json({**_user_json(created.user), "clientSecret": created.client_secret})
        return
    console.print(f"API user [bold]{created.user.name}[/] created ({role.value}).")
    typer.echo(f"client_id:     {created.user.client_id}")
    typer.echo(f"client_secret: {created.client_secret}")
    console.print("Store the secret now: it is not shown again.", highlight=False)


@app.command("list")
@handle_user_errors
def list_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """API users with role and workspaces (never secrets)."""
    database = open_database(db)
    with database.read() as connection:
        users = list_users(connection)
    if as_json:
        print_json({"apiUsers": [_user_json(u) for u in users]})
        return
    if not users:
        console.print("No API users yet: kampanj api-user create NAME --role … --workspace …")
        return
    for user in users:
        scope = "all workspaces" if user.workspaces is None else ", ".join(user.workspaces)
        typer.echo(f"{user.name}  {user.role.value}  {user.client_id}  {scope}")


def register(root: typer.Typer) -> None:
    """Add ``api-user`` to the root application."""
    root.add_typer(app, name="api-user")
