"""`kampanj activities import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.cli.import_view import print_import_report, show_progress
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
    print_import_report(
        f"Activity import: {file.name}",
        [("imported", report.imported)],
        report.skipped,
        report.seconds,
    )
