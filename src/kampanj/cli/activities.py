"""`kampanj activities import`."""

from __future__ import annotations

from pathlib import Path
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
from kampanj.cli.people import print_skipped, show_progress
from kampanj.cli.progress import progress_reporter
from kampanj.clock import SystemClock
from kampanj.ingest.activities import import_activities

app = typer.Typer(help="Load activity history.", no_args_is_help=True)


@app.command("import")
@handle_user_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="JSONL file, one activity object per line.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Append activity history; imported activities fire no triggers (ACT-6)."""
    database = open_database(db)
    with progress_reporter(f"Importing {file.name}", disabled=not show_progress(as_json)) as cb:
        report = import_activities(database, file, clock=SystemClock(), on_progress=cb)
    if as_json:
        print_json(report.to_dict())
        return
    summary = Table(title=f"Activity import: {file.name}", title_justify="left", show_header=False)
    summary.add_column("outcome")
    summary.add_column("rows", justify="right")
    summary.add_row("imported", f"{report.imported:,}")
    summary.add_row("skipped", f"{len(report.skipped):,}")
    summary.add_row("seconds", f"{report.seconds:.2f}")
    console.print(summary)
    print_skipped(report.skipped)
