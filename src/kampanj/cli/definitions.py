"""`kampanj lint` and `kampanj apply`: definitions as code (VAL-1, VAL-3, VAL-6)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import make_url

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.cli.findings_view import print_findings
from kampanj.clock import clock_from_env
from kampanj.definitions.findings import Finding, Severity, count, findings_summary
from kampanj.errors import DefinitionError
from kampanj.model.account import Definitions
from kampanj.services.apply import AppliedDefinitions, apply_paths, check
from kampanj.store.database import Database, resolve_url
from kampanj.store.definitions_repo import ApplyReport, Kind, Outcome, read_definitions

PathsArgument = Annotated[
    list[Path],
    typer.Argument(
        help="YAML files or directories (searched for *.yaml / *.yml).", show_default=False
    ),
]
_NAMES_SHOWN = 6  # changed objects listed per kind in the apply table


def register(app: typer.Typer) -> None:
    app.command("lint")(lint_command)
    app.command("apply")(apply_command)


@handle_user_errors
def lint_command(
    paths: PathsArgument,
    db: DbOption = None,
    as_json: JsonOption = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
) -> None:
    """Check definitions (merged over the stored ones, if a database exists); writes nothing."""
    _, findings = check(paths, _stored_definitions(db), clock=clock_from_env())
    failed = count(findings, Severity.ERROR) > 0 or (
        strict and count(findings, Severity.WARNING) > 0
    )
    if as_json:
        print_json(findings_summary(findings))
    else:
        print_findings(findings, console)
        console.print(_summary(findings), highlight=False)
    if failed:
        raise typer.Exit(code=1)


@handle_user_errors
def apply_command(
    paths: PathsArgument,
    db: DbOption = None,
    as_json: JsonOption = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Write despite error findings and report them (VAL-3)."),
    ] = False,
) -> None:
    """Validate definitions and write them in one transaction: all or nothing (VAL-3)."""
    database = open_database(db)
    try:
        applied = apply_paths(database, paths, force=force, clock=clock_from_env())
    except DefinitionError as refused:
        _print_refusal(refused.findings, as_json=as_json)
        raise typer.Exit(code=1) from None
    finally:
        database.dispose()
    if as_json:
        print_json(applied.to_dict())
        return
    _print_applied(applied, database)


def _print_refusal(findings: Sequence[Finding], *, as_json: bool) -> None:
    if as_json:
        print_json({**ApplyReport().to_dict(), **findings_summary(findings)})
        return
    print_findings(findings, console)
    console.print(
        f"{_summary(findings)}; [bold red]nothing written[/] "
        "(fix the errors, or use --force to write anyway)",
        highlight=False,
    )


def _print_applied(applied: AppliedDefinitions, database: Database) -> None:
    print_findings(applied.findings, console)
    console.print(_report_table(applied.report))
    verb = "written" if applied.report.changed else "nothing to change"
    console.print(
        f"{_summary(applied.findings)}; {verb}: [bold]{database.display_url}[/]",
        highlight=False,
    )


def _stored_definitions(db: str | None) -> Definitions:
    """What the database holds, or nothing when there is no database (lint never creates one)."""
    url = resolve_url(db)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = parsed.database
        if not file or file == ":memory:" or not Path(file).exists():
            return Definitions()
    database = Database(url)
    try:
        if not database.is_initialised():
            return Definitions()
        with database.read() as connection:
            return read_definitions(connection)
    finally:
        database.dispose()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _summary(findings: Sequence[Finding]) -> str:
    errors = count(findings, Severity.ERROR)
    warnings = count(findings, Severity.WARNING)
    if not errors and not warnings:
        return "[green]no findings[/]"
    style = "red" if errors else "yellow"
    return f"[{style}]{_plural(errors, 'error')}, {_plural(warnings, 'warning')}[/]"


def _report_table(report: ApplyReport) -> Table:
    table = Table(title="kampanj apply")
    table.add_column("Kind")
    table.add_column("Created", justify="right")
    table.add_column("Updated", justify="right")
    table.add_column("Unchanged", justify="right")
    table.add_column("Created or updated")
    for kind in Kind:
        counts = [report.count(outcome, kind) for outcome in Outcome]
        if not any(counts):
            continue
        changed = report.names(Outcome.CREATED, kind) + report.names(Outcome.UPDATED, kind)
        shown = ", ".join(changed[:_NAMES_SHOWN])
        if len(changed) > _NAMES_SHOWN:
            shown += f", … (+{len(changed) - _NAMES_SHOWN})"
        table.add_row(kind.value, *(str(c) for c in counts), shown)
    return table
