"""Rendering import reports (people and activities) for people watching a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from kampanj.cli.common import console, err_console
from kampanj.ingest.report import SkippedRow

SKIPPED_SHOWN = 20  # text output lists this many skipped rows; --json lists them all


def show_progress(as_json: bool) -> bool:
    """Progress bars only for people watching a terminal."""
    return not as_json and err_console.is_terminal


def print_import_report(
    title: str, counts: Sequence[tuple[str, int]], skipped: Sequence[SkippedRow], seconds: float
) -> None:
    """A table of outcome counts, then the first skipped rows with their reasons."""
    summary = Table(title=title, title_justify="left", show_header=False)
    summary.add_column("outcome")
    summary.add_column("rows", justify="right")
    for outcome, rows in [*counts, ("skipped", len(skipped))]:
        summary.add_row(outcome, f"{rows:,}")
    summary.add_row("seconds", f"{seconds:.2f}")
    console.print(summary)
    _print_skipped(skipped)


def _print_skipped(skipped: Sequence[SkippedRow]) -> None:
    if not skipped:
        return
    table = Table(title=f"Skipped rows ({len(skipped):,})", title_justify="left")
    table.add_column("line", justify="right")
    table.add_column("reason")
    for row in skipped[:SKIPPED_SHOWN]:
        table.add_row(str(row.line), row.reason)
    console.print(table)
    if len(skipped) > SKIPPED_SHOWN:
        console.print(f"… and {len(skipped) - SKIPPED_SHOWN:,} more (use --json to see all).")
