"""`kampanj people import|show`.

As `kampanj event` does, an import offers the Person Created and Data Value Change
activities it committed to triggers at once (ACT-6, CMP-14) and, if that queued runs, wakes
the `kampanj worker` processes (one ``dispatch`` message, queue/notify.py) so they start
them now instead of at their next sweep. Neither step fails the import: the next dispatch
or sweep does what they could not.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.cli.events import QueueOption
from kampanj.cli.import_view import print_import_report, show_progress
from kampanj.cli.progress import progress_reporter
from kampanj.clock import Clock, SystemClock
from kampanj.engine import triggers
from kampanj.errors import NotFoundError
from kampanj.ingest.people import Lookup, import_people
from kampanj.ingest.sources import SourceFormat
from kampanj.model.activities import Activity, ActivityTypeRegistry
from kampanj.model.conversions import format_value, json_value
from kampanj.queue.notify import wake_through
from kampanj.store.activities_repo import activities_for_person
from kampanj.store.database import Database
from kampanj.store.people_repo import get_person
from kampanj.store.registry import load_activity_types, load_field_registry

app = typer.Typer(help="Import and inspect people.", no_args_is_help=True)
log = logging.getLogger("kampanj.people")


@app.command("import")
@handle_user_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV (header = field names) or JSONL file.")],
    lookup: Annotated[
        Lookup, typer.Option(help="Match existing people by email (else create) or by id.")
    ] = Lookup.EMAIL,
    file_format: Annotated[
        SourceFormat | None,
        typer.Option("--format", help="File format; default from the file extension."),
    ] = None,
    queue: QueueOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create or update people from a file; bad rows are skipped with their reasons."""
    database = open_database(db)
    clock = SystemClock()
    with progress_reporter(f"Importing {file.name}", disabled=not show_progress(as_json)) as cb:
        report = import_people(
            database,
            file,
            lookup=lookup,
            file_format=file_format,
            clock=clock,
            on_progress=cb,
        )
    _offer_to_triggers(database, clock, queue)
    if as_json:
        print_json(report.to_dict())
        return
    print_import_report(
        f"People import: {file.name}",
        [("created", report.created), ("updated", report.updated), ("unchanged", report.unchanged)],
        report.skipped,
        report.seconds,
    )


def _offer_to_triggers(database: Database, clock: Clock, queue: str | None) -> None:
    """After the import committed: dispatch its activities, then wake the workers for the
    runs that queued (see module doc); never raises."""
    try:
        triggers.dispatch(database, clock)
    except Exception:
        log.exception("trigger dispatch after the import failed; the next dispatch retries")
    wake_through(queue, database, clock)


@app.command("show")
@handle_user_errors
def show_command(
    person_id: Annotated[int, typer.Argument(metavar="ID", help="Person id.")],
    limit: Annotated[int, typer.Option(help="Activities to list, newest first.", min=0)] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A person's fields and activity log, newest first."""
    database = open_database(db)
    with database.read() as connection:
        registry = load_field_registry(connection)
        types = load_activity_types(connection)
        person = get_person(connection, registry, person_id)
        if person is None:
            raise NotFoundError(f"person {person_id} does not exist")
        activities = activities_for_person(connection, person_id, limit)
    fields = [
        (field.name, field.display_name, person.fields.get(field.name))
        for field in registry
        if person.fields.get(field.name) not in (None, "")
    ]
    if as_json:
        print_json(
            {
                "id": person.id,
                "fields": {name: json_value(value) for name, _, value in fields},
                "activities": [_activity_document(a, types) for a in activities],
            }
        )
        return
    table = Table(title=f"Person {person.id}", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for _, display, value in fields:
        table.add_row(display, format_value(value) or "")
    console.print(table)
    log = Table(title=f"Activities (newest first, up to {limit})", title_justify="left")
    log.add_column("date (UTC)")
    log.add_column("type")
    log.add_column("primary")
    log.add_column("attributes")
    for activity in activities:
        log.add_row(
            activity.activity_date.strftime("%Y-%m-%d %H:%M:%S"),
            _type_name(activity, types),
            activity.primary_attribute_value or "",
            "; ".join(f"{k}: {v}" for k, v in activity.attributes.items()),
        )
    console.print(log)


def _type_name(activity: Activity, types: ActivityTypeRegistry) -> str:
    found = types.by_id(activity.activity_type_id)
    return found.name if found else str(activity.activity_type_id)


def _activity_document(activity: Activity, types: ActivityTypeRegistry) -> dict[str, object]:
    return {
        "id": activity.id,
        "marketoGUID": activity.marketo_guid,
        "activityDate": format_value(activity.activity_date),
        "activityTypeId": activity.activity_type_id,
        "activityType": _type_name(activity, types),
        "campaignId": activity.campaign_id,
        "primaryAttributeValueId": activity.primary_attribute_value_id,
        "primaryAttributeValue": activity.primary_attribute_value,
        "attributes": [{"name": k, "value": v} for k, v in activity.attributes.items()],
    }
