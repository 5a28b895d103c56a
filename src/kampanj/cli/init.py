"""`kampanj init`: create or upgrade the database schema."""

from __future__ import annotations

import typer

from kampanj.cli.common import DbOption, JsonOption, console, handle_user_errors, print_json
from kampanj.store.database import Database


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)


@handle_user_errors
def init_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create the database (or upgrade it to the newest schema)."""
    database = Database.open(db)
    existed = database.is_initialised()
    database.migrate()
    if as_json:
        print_json({"database": database.display_url, "created": not existed})
    else:
        verb = "upgraded" if existed else "created"
        console.print(f"Database {verb}: [bold]{database.display_url}[/]")
