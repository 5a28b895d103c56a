"""The `kampanj` Typer application: one module per command group."""

from __future__ import annotations

import typer

from kampanj.cli import activities, definitions, demo, init, people

app = typer.Typer(
    name="kampanj",
    help="Marketo-style smart campaigns as code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

init.register(app)
definitions.register(app)
app.add_typer(people.app, name="people")
app.add_typer(activities.app, name="activities")
demo.register(app)


def main() -> None:
    app()
