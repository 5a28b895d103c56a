"""What every command shares: ``--db``, ``--json``, output and user-error handling."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from kampanj.cli.findings_view import print_findings
from kampanj.definitions.findings import findings_summary
from kampanj.errors import DefinitionError, UserError
from kampanj.store.database import DATABASE_URL_ENV, Database

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"Database URL (sqlite:///FILE or postgresql+psycopg://…); "
        f"default ${DATABASE_URL_ENV}, else ./kampanj.db.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of text.")
]

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(document: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(document, default=json_default, ensure_ascii=False) + "\n")


def fail(message: str, *, as_json: bool, extra: dict[str, Any] | None = None) -> typer.Exit:
    """Report a user error (exit 1): as JSON on stdout with --json, else on stderr."""
    if as_json:
        print_json({"error": message, **(extra or {})})
    else:
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def handle_user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn `UserError` into a clear message and exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("as_json", False))
        try:
            return command(*args, **kwargs)
        except DefinitionError as error:
            if as_json:
                print_json(findings_summary(error.findings))
            else:
                print_findings(error.findings)
                err_console.print(f"[bold red]error:[/] {error}", highlight=False)
            raise typer.Exit(code=1) from None
        except UserError as error:
            raise fail(str(error), as_json=as_json) from None

    return wrapper


def open_database(url: str | None, *, migrate: bool = True) -> Database:
    """Open the database, creating or upgrading its schema unless told not to."""
    database = Database.open(url)
    if migrate:
        database.migrate()
    return database
