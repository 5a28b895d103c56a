"""`kampanj outbox [--state S] [--run ID]`: external effects and their delivery (LEDG-3)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.errors import UserError
from kampanj.store.outbox_repo import OutboxState, list_entries


def _state(value: str | None) -> OutboxState | None:
    if value is None:
        return None
    try:
        return OutboxState(value.strip().lower())
    except ValueError:
        states = ", ".join(s.value for s in OutboxState)
        raise UserError(f"--state {value!r} is not an outbox state; use one of {states}") from None


@handle_user_errors
def outbox_command(
    state: Annotated[
        str | None, typer.Option("--state", help="Only rows in this state: intent, sent, …")
    ] = None,
    run: Annotated[int | None, typer.Option("--run", help="Only rows of this run.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N rows.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List outbox rows (emails, alerts, webhooks handed to delivery), oldest first."""
    wanted = _state(state)
    database = open_database(db)
    try:
        with database.read() as connection:
            entries = list_entries(connection, state=wanted, run_id=run, limit=limit)
    finally:
        database.dispose()
    if as_json:
        print_json({"outbox": [entry.to_json() for entry in entries]})
        return
    table = Table("id", "kind", "state", "run", "person", "ledger key", "to", "subject")
    for entry in entries:
        table.add_row(
            str(entry.id),
            entry.kind.value,
            entry.state.value,
            str(entry.run_id or ""),
            str(entry.person_id or ""),
            entry.ledger_key,
            ", ".join(entry.payload.get("to") or []),
            str(entry.payload.get("subject") or ""),
        )
    console.print(table)
    console.print(f"{len(entries)} row(s)", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("outbox")(outbox_command)
