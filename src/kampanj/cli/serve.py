"""`kampanj serve`: the REST API (SPEC §15) under uvicorn, optionally with a ticking worker.

With the in-process worker (``--workers 1``) API writes that give it something to start
wake it at once (queue/notify.py ``LocalNotifier``); otherwise it ticks every
``--tick-seconds``. With ``--workers 0`` they put a dispatch message on the queue of the
`kampanj worker` processes (``Notifier``).
"""

from __future__ import annotations

import logging
import threading
import time
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
from kampanj.engine import triggers
from kampanj.engine.tick import tick
from kampanj.queue.backends import WorkQueue, open_queue
from kampanj.queue.notify import LocalNotifier, Notifier, Wake
from kampanj.store.database import Database

log = logging.getLogger("kampanj.serve")
_DEFAULTS = ApiSettings()


class Ticker(threading.Thread):
    """Runs the scheduler tick every ``interval`` seconds until stopped (GEN-4); when
    ``woken`` is set (`LocalNotifier`, after an API write) runs the queued trigger and
    requested runs at once (``drain``: dispatch, then execute them, as the tick does)."""

    def __init__(
        self,
        tick: Callable[[Database, Clock], Any],
        database: Database,
        interval: float,
        *,
        drain: Callable[[Database, Clock], Any] = triggers.drain,
    ) -> None:
        super().__init__(name="kampanj-tick", daemon=True)
        self._tick = tick
        self._drain = drain
        self._database = database
        self._interval = interval
        self.stopped = threading.Event()
        self.woken = threading.Event()

    def stop(self) -> None:
        self.stopped.set()
        self.woken.set()

    def run(self) -> None:
        clock = SystemClock()
        due = time.monotonic() + self._interval
        while not self.stopped.is_set():
            # Wakes within interval seconds, earlier when woken (no polling); a stream of
            # wakes does not put the tick off.
            if self.woken.wait(max(0.0, due - time.monotonic())):
                if self.stopped.is_set():
                    return
                self.woken.clear()  # a wake from now on asks for another drain
                self._attempt(self._drain, clock, "running the queued trigger runs")
            if time.monotonic() >= due:
                self._attempt(self._tick, clock, "scheduler tick")
                due = time.monotonic() + self._interval

    def _attempt(self, work: Callable[[Database, Clock], Any], clock: Clock, what: str) -> None:
        try:
            work(self._database, clock)
        except Exception:  # the server keeps serving; the next tick retries (LEDG-4)
            log.exception("%s failed", what)


@handle_user_errors
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8080,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="In-process worker: 1 (default; more counts as 1) = a thread of this "
            "process runs queued trigger and requested runs (at once after the API write "
            "that queued them), scheduled runs and Waits (every --tick-seconds); "
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
    notifier: Wake
    if workers > 0:
        ticker = Ticker(tick, database, tick_seconds)
        notifier = LocalNotifier(ticker.woken)
        note = f"scheduler tick every {tick_seconds:g} s in this process"
    else:
        work = open_queue(queue, database.url)
        notifier = Notifier.over(work)
        note = f"API only; workers woken through {work.url}"
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
            ticker.stop()
            ticker.join()
        if work is not None:
            work.close()
        database.dispose()


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root application."""
    app.command("serve")(serve_command)
