"""`kampanj people import|show`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Import and inspect people.", no_args_is_help=True)
