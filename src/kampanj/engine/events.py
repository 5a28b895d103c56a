"""Recording events: one activity, checked (ACT-9), committed, then offered to triggers.

`record_event` writes the activity in its own transaction; the trigger dispatcher
(engine/triggers.py) then enqueues the runs it fires, and with ``wait=True`` they are
executed inline before the call returns (tests, ``kampanj event --wait``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from kampanj.clock import Clock
from kampanj.engine import triggers
from kampanj.engine.runs import RunResult
from kampanj.errors import NotFoundError, UserError
from kampanj.ingest.account import account_zone
from kampanj.model.activities import ActivityTypeDef
from kampanj.model.conversions import (
    CLEAR,
    UNCHANGED,
    ValueConversionError,
    convert_json,
    json_value,
)
from kampanj.store import people_repo
from kampanj.store.activities_repo import activity_row
from kampanj.store.database import Database
from kampanj.store.registry import load_activity_types
from kampanj.store.schema import activity


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordedEvent:
    """What `record_event` did."""

    activity_id: int
    activity_type: str
    person_id: int
    enqueued: tuple[triggers.Enqueued, ...] = ()
    """Runs this activity fired (ORD-1 order)."""
    results: tuple[RunResult, ...] = field(default_factory=tuple)
    """With ``wait``: every run executed before returning (chained runs included)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "activityId": self.activity_id,
            "activityType": self.activity_type,
            "personId": self.person_id,
            "runs": [
                {"runId": e.run_id, "campaignId": e.campaign_id, "kind": e.kind.value}
                for e in self.enqueued
            ],
            "results": [r.to_json() for r in self.results],
        }


def record_event(
    database: Database,
    clock: Clock,
    activity_type: str | int,
    *,
    person_id: int,
    attributes: Mapping[str, object] | None = None,
    primary: str | None = None,
    primary_id: int | None = None,
    at: datetime | None = None,
    wait: bool = False,
    offer: bool = True,
) -> RecordedEvent:
    """Record one activity for ``person_id`` and offer it to triggers (ACT-6, ACT-9, CMP-14).

    Unknown person or type, or an attribute that is unknown or of the wrong type, raises
    `UserError` and writes nothing. ``offer=False`` leaves the dispatch to the worker: under
    load its batches micro-batch the runs (ORD-5); ``enqueued`` is then empty.
    """
    with database.begin() as connection:
        types = load_activity_types(connection)
        found = types.resolve(activity_type)
        if found is None:
            raise UserError(
                f"unknown activity type {activity_type!r}; use an id or name such as "
                "1 or 'Visit Webpage' (`kampanj activities types` lists them)"
            )
        if not people_repo.existing_ids(connection, [person_id]):
            raise NotFoundError(f"there is no person {person_id}")
        typed = _typed_attributes(found, attributes or {}, account_zone(connection))
        row = activity_row(
            person_id=person_id,
            activity_type_id=found.id,
            activity_date=at if at is not None else clock.now(),
            attributes=typed,
            primary_attribute_value=primary,
            primary_attribute_value_id=primary_id,
        )
        activity_id = int(
            connection.execute(insert(activity).values(row).returning(activity.c.id)).scalar_one()
        )
    fired: tuple[triggers.Enqueued, ...] = ()
    if offer or wait:
        report = triggers.dispatch(database, clock)
        fired = tuple(e for e in report.enqueued if activity_id in e.activity_ids)
    results = tuple(triggers.drain(database, clock)) if wait else ()
    return RecordedEvent(
        activity_id=activity_id,
        activity_type=found.name,
        person_id=person_id,
        enqueued=fired,
        results=results,
    )


def _typed_attributes(
    activity_type: ActivityTypeDef, raw: Mapping[str, object], zone: Any
) -> dict[str, object]:
    """Attributes under canonical names (GEN-7), converted to their declared types (ACT-9)."""
    converted: dict[str, object] = {}
    for name, value in raw.items():
        declared = next(
            (a for a in activity_type.attributes if a.name.casefold() == name.strip().casefold()),
            None,
        )
        if declared is None:
            names = ", ".join(a.name for a in activity_type.attributes) or "none"
            raise UserError(
                f"attribute {name!r} does not belong to {activity_type.name} "
                f"(its attributes: {names})"
            )
        try:
            typed = convert_json(declared.data_type, value, zone)
        except ValueConversionError as error:
            raise UserError(
                f"attribute {declared.name!r} of {activity_type.name} takes a "
                f"{declared.data_type.value}: {error}"
            ) from None
        if typed is UNCHANGED or typed is CLEAR:
            continue
        converted[declared.name] = json_value(typed)
    return converted
