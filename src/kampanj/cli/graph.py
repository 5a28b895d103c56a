"""`kampanj graph [CAMPAIGN]`: the Execute / Request Campaign call graph (VAL-7)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
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
from kampanj.cli.graph_formats import to_dot, to_json, to_text
from kampanj.cli.graph_svg import to_svg
from kampanj.definitions.lookup import find_campaign
from kampanj.definitions.validate import validate_with_graph
from kampanj.model.call_graph import CallGraph
from kampanj.model.names import fold
from kampanj.store.definitions_repo import read_definitions


class GraphFormat(StrEnum):
    TEXT = "text"
    DOT = "dot"
    SVG = "svg"


def register(app: typer.Typer) -> None:
    app.command("graph")(graph_command)


@handle_user_errors
def graph_command(
    campaign: Annotated[
        str | None,
        typer.Argument(help="Start here (name or Folder/…/Name); default: every root."),
    ] = None,
    output_format: Annotated[
        GraphFormat, typer.Option("--format", help="text tree, Graphviz DOT, or SVG.")
    ] = GraphFormat.TEXT,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the drawing to FILE, not stdout.")
    ] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Only this workspace's campaigns.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show who calls whom through Execute and Request Campaign, with levels and findings."""
    database = open_database(db)
    try:
        with database.read() as connection:
            definitions = read_definitions(connection)
    finally:
        database.dispose()
    _, graph = validate_with_graph(definitions)
    if campaign is not None:
        start = definitions.campaigns.index(find_campaign(definitions, campaign, workspace))
        roots = [start]
    else:
        roots = _roots(graph, workspace)
    rendered = {
        GraphFormat.TEXT: lambda: "\n".join(to_text(graph, roots)) + "\n",
        GraphFormat.DOT: lambda: to_dot(graph, roots),
        GraphFormat.SVG: lambda: to_svg(graph, roots),
    }[output_format]()
    if output is not None:
        output.write_text(rendered, encoding="utf-8")
    if as_json:
        document = to_json(graph, roots)
        if output is not None:
            document["output"] = str(output)
        print_json(document)
    elif output is not None:
        console.print(f"wrote {output_format.value} to {escape(str(output))}", highlight=False)
    elif not roots:
        console.print("no campaign calls another (no Execute or Request Campaign steps)")
    else:
        console.out(rendered, end="", highlight=False)


def _roots(graph: CallGraph, workspace: str | None) -> list[int]:
    nodes = graph.connected()
    if workspace is not None:
        nodes = [n for n in nodes if fold(graph.nodes[n].workspace) == fold(workspace)]
    return graph.roots(nodes)
