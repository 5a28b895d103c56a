"""`kampanj serve`: the REST API (SPEC §15) under uvicorn, optionally with a ticking worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated, Any

import typer

from kampanj.api import ApiSettings, create_app
from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.clock import Clock, SystemClock
from kampanj.engine.tick import tick
from kampanj.queue.backends import WorkQueue, open_queue
from kampanj.queue.notify import Notifier
from kampanj.store.database import Database

log = logging.getLogger("kampanj.serve")
_DEFAULTS = ApiSettings()


class Ticker(threading.Thread):
    """Runs the scheduler tick every ``interval`` seconds until stopped (GEN-4)."""

    def __init__(
        self, tick: Callable[[Database, Clock], Any], database: Database, interval: float
    ) -> None:
        super().__init__(name="kampanj-tick", daemon=True)
        self._tick = tick
        self._database = database
        self._interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        clock = SystemClock()
        while not self.stopped.wait(self._interval):
            try:
                self._tick(self._database, clock)
            except Exception:  # the server keeps serving; the next tick retries (LEDG-4)
                log.exception("scheduler tick failed")


@handle_user_errors
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8080,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="In-process worker: 1 (default; more counts as 1) = a thread of this "
            "process runs queued trigger and requested runs, scheduled runs and Waits; "
            "0 = API only (run `kampanj worker` processes beside it; writes that fire "
            "triggers wake them through the work queue).",
            min=0,
        ),
    ] = 1,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="With --workers 0: the `kampanj worker` processes' queue (default "
            "KAMPANJ_QUEUE_URL, else a SQLite file next to the database).",
        ),
    ] = None,
    tick_seconds: Annotated[
        float, typer.Option("--tick-seconds", help="Seconds between scheduler ticks.")
    ] = 1.0,
    account_id: Annotated[
        str, typer.Option("--account-id", help="Suffix of access tokens (Munchkin id).")
    ] = _DEFAULTS.account_id,
    rate_limit: Annotated[
        int,
        typer.Option(
            "--rate-limit", min=1, help="Calls allowed per account in the sliding window (606)."
        ),
    ] = _DEFAULTS.rate_limit_calls,
    rate_window: Annotated[
        int,
        typer.Option("--rate-window", min=1, help="Length of the sliding window in seconds."),
    ] = _DEFAULTS.rate_limit_window_seconds,
    max_concurrent: Annotated[
        int,
        typer.Option("--max-concurrent", min=1, help="Calls in flight at once (615)."),
    ] = _DEFAULTS.max_concurrent_calls,
    daily_quota: Annotated[
        int,
        typer.Option("--daily-quota", min=1, help="Calls per day from 00:00 UTC-06:00 (607)."),
    ] = _DEFAULTS.daily_quota,
    clone_per_day: Annotated[
        int,
        typer.Option(
            "--clone-to-program-per-day",
            min=0,
            help="schedule.json calls with cloneToProgramName per day (1020).",
        ),
    ] = _DEFAULTS.clone_to_program_per_day,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Serve the Marketo-compatible REST API (OpenAPI document at /openapi.json)."""
    import uvicorn

    database = open_database(db)
    settings = ApiSettings(
        account_id=account_id,
        rate_limit_calls=rate_limit,
        rate_limit_window_seconds=rate_window,
        max_concurrent_calls=max_concurrent,
        daily_quota=daily_quota,
        clone_to_program_per_day=clone_per_day,
    )
    ticker: Ticker | None = None
    work: WorkQueue | None = None
    if workers > 0:
        ticker = Ticker(tick, database, tick_seconds)
        note = f"scheduler tick every {tick_seconds:g} s in this process"
    else:
        work = open_queue(queue, database.url)
        note = f"API only; workers woken through {work.url}"
    notifier = None if work is None else Notifier.over(work)
    app = create_app(database, SystemClock(), settings, notifier=notifier)
    url = f"http://{host}:{port}"
    if as_json:
        print_json({"url": url, "database": database.display_url, "worker": note})
    else:
        console.print(f"kampanj API on [bold]{url}[/] ({database.display_url}; {note})")
    if ticker is not None:
        ticker.start()
    try:
        # No access log: URLs may carry access_token or client_secret (API-8).
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
    finally:
        if ticker is not None:
            ticker.stopped.set()
            ticker.join()
        if work is not None:
            work.close()
        database.dispose()


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root application."""
    app.command("serve")(serve_command)
