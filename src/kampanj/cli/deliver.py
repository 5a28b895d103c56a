"""`kampanj deliver [--limit N]`: hand pending outbox rows to their transports now (LEDG-3).

The tick does the same after its due work; this command delivers without running
anything else, e.g. after fixing a webhook receiver.
"""

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
from kampanj.clock import SystemClock
from kampanj.engine.delivery import deliver


@handle_user_errors
def deliver_command(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Deliver at most N pending rows.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deliver pending emails, alerts and webhook calls once each; resolve stale claims."""
    database = open_database(db)
    try:
        report = deliver(database, SystemClock(), limit=limit)
    finally:
        database.dispose()
    if as_json:
        print_json({"delivery": report.to_json()})
        return
    table = Table("ledger key", "kind", "state", "error")
    for row in report.rows:
        table.add_row(row["ledgerKey"], row["kind"], row["state"], row["error"] or "")
    console.print(table)
    summary = report.to_json()
    console.print(
        f"{summary['sent']} sent, {summary['failed']} failed, {summary['unknown']} unknown",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("deliver")(deliver_command)
