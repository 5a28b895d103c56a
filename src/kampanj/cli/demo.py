"""`kampanj demo`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Registers demo (being built)."""
