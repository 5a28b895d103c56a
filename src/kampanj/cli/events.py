"""`kampanj event`, `kampanj activate`, `kampanj deactivate`, `kampanj request`.

Events are recorded and offered to triggers at once (ACT-6, ACT-9, CMP-14); the runs they
fire are queued for the worker (`kampanj tick` / `kampanj worker`), or executed inline
with ``--wait``. Without ``--wait`` a ``dispatch`` message on the work queue wakes
`kampanj worker` processes at once (queue/notify.py). Activation switches trigger campaigns
on and off (CMP-12, CMP-13); requests start a campaign's *Campaign is Requested* trigger
from outside (REQ-4, API-17/18).
"""

from __future__ import annotations

from typing import Annotated

import typer

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.clock import SystemClock
from kampanj.engine.activation import activate, deactivate
from kampanj.engine.events import record_event
from kampanj.engine.request_rules import WEB_SERVICE_API
from kampanj.engine.requests import request_campaign
from kampanj.errors import UserError
from kampanj.ingest.account import account_zone
from kampanj.model.conversions import ValueConversionError, parse_datetime
from kampanj.queue.notify import wake_through
from kampanj.store.database import Database
from kampanj.tokens.overrides import parse_override_argument

WorkspaceOption = Annotated[
    str | None, typer.Option("--workspace", help="Workspace of the campaign.")
]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="Run the queued runs inline before returning.")
]
QueueOption = Annotated[
    str | None,
    typer.Option(
        "--queue",
        help="Work queue whose `kampanj worker` processes start the runs now (default "
        "KAMPANJ_QUEUE_URL, else a SQLite file next to the database).",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("event")(event_command)
    app.command("activate")(activate_command)
    app.command("deactivate")(deactivate_command)
    app.command("request")(request_command)


def _wake_workers(database: Database, queue: str | None) -> None:
    """Tell the workers to start what was just recorded; never fails the command."""
    wake_through(queue, database, SystemClock())


def _attributes(pairs: list[str]) -> dict[str, object]:
    found: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--attr {pair!r}: write NAME=VALUE, e.g. --attr 'Webpage URL=/x'")
        found[name.strip()] = value
    return found


@handle_user_errors
def event_command(
    activity_type: Annotated[str, typer.Argument(help="Activity type name or id.")],
    person: Annotated[int, typer.Option("--person", help="Person id.", show_default=False)],
    attr: Annotated[
        list[str] | None, typer.Option("--attr", help="Attribute NAME=VALUE (repeatable).")
    ] = None,
    primary: Annotated[
        str | None, typer.Option("--primary", help="Primary attribute value.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Activity date, ISO-8601 (naive = account zone); default now."),
    ] = None,
    wait: WaitOption = False,
    queue: QueueOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record an activity for a person and fire the trigger campaigns it matches."""
    attributes = _attributes(attr or [])
    database = open_database(db)
    try:
        when = None
        if at is not None:
            with database.read() as connection:
                zone = account_zone(connection)
            try:
                when = parse_datetime(at, zone)
            except ValueConversionError as error:
                raise UserError(f"--at {at!r}: {error}") from None
        recorded = record_event(
            database,
            SystemClock(),
            int(activity_type) if activity_type.strip().isdigit() else activity_type,
            person_id=person,
            attributes=attributes,
            primary=primary,
            at=when,
            wait=wait,
        )
        if not wait:
            _wake_workers(database, queue)
    finally:
        database.dispose()
    if as_json:
        print_json(recorded.to_json())
        return
    console.print(
        f"activity {recorded.activity_id} ({recorded.activity_type}) for person "
        f"{recorded.person_id}: {len(recorded.enqueued)} run(s) enqueued",
        highlight=False,
    )
    for item in recorded.enqueued:
        console.print(f"  run {item.run_id} of campaign {item.campaign_id}", highlight=False)
    for result in recorded.results:
        console.print(f"  run {result.run_id}: {result.status.value}", highlight=False)


@handle_user_errors
def activate_command(
    campaign: Annotated[str, typer.Argument(help="Trigger campaign name or Folder/…/Name.")],
    workspace: WorkspaceOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Activate a trigger campaign: its triggers start firing (CMP-12)."""
    _switch(campaign, workspace, db, as_json, active=True)


@handle_user_errors
def deactivate_command(
    campaign: Annotated[str, typer.Argument(help="Trigger campaign name or Folder/…/Name.")],
    workspace: WorkspaceOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deactivate a trigger campaign; people already in its flow finish it (CMP-13)."""
    _switch(campaign, workspace, db, as_json, active=False)


def _switch(
    campaign: str, workspace: str | None, db: str | None, as_json: bool, *, active: bool
) -> None:
    """Activate or deactivate ``campaign`` and print the outcome."""
    change = activate if active else deactivate
    database = open_database(db)
    try:
        item = change(database, SystemClock(), campaign, workspace=workspace)
    finally:
        database.dispose()
    if as_json:
        print_json({"id": item.id, "name": item.name, "active": active})
        return
    state = "active" if active else "inactive"
    console.print(f"campaign {item.name!r} is {state}", highlight=False)


@handle_user_errors
def request_command(
    campaign: Annotated[str, typer.Argument(help="Trigger campaign name or Folder/…/Name.")],
    person: Annotated[
        list[int], typer.Option("--person", help="Person id (repeatable, at most 100).")
    ],
    token: Annotated[
        list[str] | None,
        typer.Option("--token", help='My Token override for this run, "{{my.X}}=value".'),
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help='"Web Service API" or "Sales Insight".')
    ] = WEB_SERVICE_API,
    workspace: WorkspaceOption = None,
    wait: WaitOption = False,
    queue: QueueOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Request a campaign for people (its Campaign is Requested trigger); never waits
    unless --wait."""
    overrides = [parse_override_argument(t) for t in token or []]
    database = open_database(db)
    try:
        result = request_campaign(
            database,
            SystemClock(),
            campaign,
            person,
            tokens=overrides,
            source=source,
            workspace=workspace,
            wait=wait,
        )
        if not wait:
            _wake_workers(database, queue)
    finally:
        database.dispose()
    if as_json:
        print_json(result.to_json())
        return
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning.message}", highlight=False)
    where = f"run {result.run_id}" if result.run_id else "no run (nobody qualified)"
    console.print(
        f"request {result.request_id}: {len(result.requested)} requested, "
        f"{len(result.qualified)} qualified → {where}",
        highlight=False,
    )
