"""`kampanj activities import`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Load activity history.", no_args_is_help=True)
