"""The `kampanj` Typer application: one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from kampanj import __version__
from kampanj.cli import (
    activities,
    definitions,
    demo,
    init,
    people,
    runs,
    schedule,
    smartlists,
    tokens,
)
from kampanj.cli.api_users import register as register_api_users
from kampanj.cli.clone import register as register_clone
from kampanj.cli.deliver import register as register_deliver
from kampanj.cli.events import register as register_events
from kampanj.cli.graph import register as register_graph
from kampanj.cli.outbox import register as register_outbox
from kampanj.cli.serve import register as register_serve

app = typer.Typer(
    name="kampanj",
    help="Marketo-style smart campaigns as code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"kampanj {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Marketo-style smart campaigns as code."""


init.register(app)
definitions.register(app)
app.add_typer(people.app, name="people")
app.add_typer(activities.app, name="activities")
demo.register(app)
smartlists.register(app)
tokens.register(app)
register_clone(app)
register_graph(app)
runs.register(app)
register_outbox(app)
register_deliver(app)
schedule.register(app)
register_api_users(app)
register_serve(app)
register_events(app)


def main() -> None:
    app()
