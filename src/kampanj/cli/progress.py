"""Rich progress bars for long work, driven by the core's progress callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kampanj.cli.common import err_console

ProgressCallback = Callable[[int, int | None], None]
"""``on_progress(done, total)``: units done so far and the total when known."""


@contextmanager
def progress_reporter(description: str, *, disabled: bool = False) -> Iterator[ProgressCallback]:
    """A progress bar on stderr; ``disabled`` (e.g. with --json) yields a no-op callback."""
    if disabled:
        yield lambda _done, _total: None
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    task = progress.add_task(description, total=None)

    def on_progress(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield on_progress
