"""`kampanj clone CAMPAIGN --name NEW [--to FOLDER] [--executable]` (CMP-24..26, EXE-1)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.cli.findings_view import print_findings
from kampanj.services.clone import clone_campaign


def register(app: typer.Typer) -> None:
    app.command("clone")(clone_command)


@handle_user_errors
def clone_command(
    campaign: Annotated[str, typer.Argument(help="Campaign name or Folder/…/Name path.")],
    name: Annotated[str, typer.Option("--name", help="Name of the clone.", show_default=False)],
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Folder or program path for the clone (default: the source's).",
        ),
    ] = None,
    executable: Annotated[
        bool,
        typer.Option("--executable", help="Make the clone executable (EXE-1); never inherited."),
    ] = False,
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Workspace of the campaign.")
    ] = None,
    print_yaml: Annotated[
        bool,
        typer.Option("--print-yaml", help="Print the clone as YAML to commit (campaigns as code)."),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy a campaign's smart list, flow and schedule settings into a new, inactive one."""
    database = open_database(db)
    try:
        cloned = clone_campaign(
            database, campaign, name=name, to=to, executable=executable, workspace=workspace
        )
    finally:
        database.dispose()
    if as_json:
        print_json({**cloned.to_dict(), **({"yaml": cloned.yaml} if print_yaml else {})})
        return
    if print_yaml:
        console.out(cloned.yaml, end="", highlight=False)
        return
    print_findings(cloned.findings, console)
    clone = cloned.campaign
    where = "/".join((clone.workspace, *clone.folder))
    kind = "executable" if clone.executable else clone.type.value
    console.print(
        f"cloned [bold]{escape(cloned.source.name)}[/] → [bold]{escape(clone.name)}[/] "
        f"(id {clone.id}, {kind}, inactive) in {escape(where)}",
        highlight=False,
    )
