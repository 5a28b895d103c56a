"""The `kampanj` command line (Typer + Rich)."""
