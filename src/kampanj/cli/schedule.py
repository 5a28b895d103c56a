"""`kampanj schedule list|cancel`, `kampanj tick`, `kampanj worker`, `kampanj abort`.

(CMP-8..11, CMP-29, GEN-4, LEDG-4.) ``kampanj run CAMPAIGN --at TIME`` (cli/runs.py) adds
scheduled runs; a tick starts them when due and resumes waiting people.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from types import FrameType
from typing import Annotated, Any

import typer
from rich.table import Table

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.clock import SystemClock, clock_from_env
from kampanj.engine.abort import abort_campaign, abort_run
from kampanj.engine.runs import RunResult
from kampanj.engine.schedule import Scheduled, cancel, list_scheduled, schedule_run, upcoming
from kampanj.engine.tick import TickReport, tick
from kampanj.errors import UserError
from kampanj.queue.backends import open_queue
from kampanj.queue.consumer import Consumer, new_identity
from kampanj.store.repositories.reading import read_definitions
from kampanj.tokens.overrides import OverrideRequest

schedule_app = typer.Typer(
    help="Scheduled batch runs: pending ones and recurrences.", no_args_is_help=True
)


def print_scheduled(item: Scheduled) -> None:
    console.print(
        f"scheduled run {item.id}: campaign {item.campaign_id} at {item.run_at.isoformat()} "
        f"({item.origin.value}, {item.status.value})",
        highlight=False,
    )


@schedule_app.command("list")
@handle_user_errors
def schedule_list(
    every: Annotated[
        bool, typer.Option("--all", help="Started, cancelled and refused ones too.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pending scheduled runs and the next occurrence of every recurring campaign."""
    database = open_database(db)
    try:
        with database.read() as connection:
            rows = list_scheduled(connection, pending_only=not every)
            recurring = upcoming(read_definitions(connection), SystemClock().now(), connection)
    finally:
        database.dispose()
    if as_json:
        print_json({"scheduled": [r.to_json() for r in rows], "recurring": recurring})
        return
    table = Table("id", "campaign", "run at", "origin", "status", "run")
    for r in rows:
        table.add_row(
            str(r.id),
            str(r.campaign_id),
            r.run_at.isoformat(),
            r.origin.value,
            r.status.value,
            "" if r.run_id is None else str(r.run_id),
        )
    console.print(table)
    for item in recurring:
        console.print(
            f"recurring: {item['campaign']} next at {item['runAt'].isoformat()}", highlight=False
        )


@schedule_app.command("cancel")
@handle_user_errors
def schedule_cancel(
    scheduled_id: Annotated[int, typer.Argument(help="Scheduled run id (`schedule list`).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a pending scheduled run (CMP-11); started runs continue."""
    database = open_database(db)
    try:
        cancelled = cancel(database, scheduled_id)
    finally:
        database.dispose()
    if as_json:
        print_json(cancelled.to_json())
        return
    print_scheduled(cancelled)


def schedule_command(
    campaign: str,
    at: str,
    overrides: Sequence[OverrideRequest],
    workspace: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """``kampanj run CAMPAIGN --at TIME``: a pending scheduled run (CMP-8)."""
    database = open_database(db)
    try:
        request = schedule_run(
            database, SystemClock(), campaign, at, workspace=workspace, overrides=overrides
        )
    finally:
        database.dispose()
    if as_json:
        print_json({**request.scheduled.to_json(), "ignoredOverrides": list(request.ignored)})
        return
    for message in request.ignored:
        err_console.print(f"[yellow]warning:[/] {message}", highlight=False)
    print_scheduled(request.scheduled)


def _print_report(report: TickReport) -> None:
    if not report.actions:
        console.print("nothing due")
    for action in report.actions:
        details = ", ".join(f"{k} {v}" for k, v in action.items() if k != "action")
        console.print(f"{action['action']}: {details}", highlight=False)


@handle_user_errors
def tick_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Resume due Waits and interrupted runs, start due scheduled runs, once each (GEN-4)."""
    database = open_database(db)
    try:
        report = tick(database, clock_from_env())
    finally:
        database.dispose()
    if as_json:
        print_json(report.to_json())
        return
    _print_report(report)


@handle_user_errors
def worker_command(
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between ticks (sweeps).", min=0.0)
    ] = 60.0,
    max_ticks: Annotated[
        int | None, typer.Option("--max-ticks", help="Stop after this many ticks.", min=1)
    ] = None,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="Work queue URL: sqlite:///PATH, redis://HOST:PORT/DB, postgresql://… "
            "(default KAMPANJ_QUEUE_URL, else a SQLite file next to the database).",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Run chunks executed at once.", min=1)
    ] = 1,
    lease_seconds: Annotated[
        float,
        typer.Option("--lease-seconds", help="How long a dead worker's chunk stays held.", min=0.1),
    ] = 60.0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Execute queued run chunks and tick in a loop until SIGINT or SIGTERM (or --max-ticks).

    Several workers may share one database and queue (DESIGN.md §5); each finishes the
    chunk step or tick it is in before stopping. Errors are logged to stderr and retried
    after a back-off: only a signal stops a worker.
    """
    database = open_database(db)
    work = open_queue(queue, database.url)
    ticks = 0
    actions: list[dict[str, Any]] = []
    if not logging.getLogger().handlers:  # errors the worker survives go to stderr
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    consumer = Consumer(
        database=database,
        queue=work,
        clock=clock_from_env(),
        worker=new_identity(lease_seconds),
        concurrency=concurrency,
        interval=interval,
    )

    def on_tick(report: TickReport) -> None:
        nonlocal ticks
        ticks += 1
        actions.extend(report.actions)
        if not as_json and report.actions:
            _print_report(report)
        if max_ticks is not None and ticks >= max_ticks:
            consumer.stop.set()

    consumer.on_tick = on_tick

    def request_stop(signum: int, frame: FrameType | None) -> None:
        consumer.stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    if not as_json:
        console.print(
            f"worker started: a tick every {interval:g} s, queue {work.url}; stop with Ctrl-C",
            highlight=False,
        )
    try:
        consumer.run()
    finally:
        work.close()
        database.dispose()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if as_json:
        print_json({"ticks": ticks, "actions": actions})
    else:
        console.print(f"worker stopped after {ticks} tick(s)")


def _results(results: list[RunResult], as_json: bool, *, deactivated: bool = False) -> None:
    if as_json:
        print_json({"aborted": [r.to_json() for r in results], "deactivated": deactivated})
        return
    if not results:
        console.print("no unfinished run to abort")
    for result in results:
        console.print(f"run {result.run_id}: [bold]{result.status.value}[/]", highlight=False)
    if deactivated:
        console.print("the trigger campaign was deactivated (CMP-29)")


@handle_user_errors
def abort_command(
    run_id: Annotated[int | None, typer.Argument(help="Run id (see `kampanj runs`).")] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Abort every unfinished run of it.")
    ] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Workspace of the campaign.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Abort a run, or every unfinished run of a campaign (CMP-29); aborting a trigger
    campaign's runs also deactivates it."""
    if (run_id is None) == (campaign is None):
        raise UserError("give either a RUN_ID or --campaign NAME")
    database = open_database(db)
    try:
        if run_id is not None:
            _results([abort_run(database, SystemClock(), run_id)], as_json)
            return
        assert campaign is not None
        done = abort_campaign(database, SystemClock(), campaign, workspace=workspace)
    finally:
        database.dispose()
    _results(done.results, as_json, deactivated=done.deactivated)


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
    app.command("tick")(tick_command)
    app.command("worker")(worker_command)
    app.command("abort")(abort_command)
