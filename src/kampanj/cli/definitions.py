"""`kampanj lint` and `kampanj apply`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Registers lint and apply (being built)."""
