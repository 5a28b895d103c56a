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

from sqlalchemy import Connection, bindparam, insert, select

from kampanj.clock import Clock
from kampanj.engine import triggers
from kampanj.engine.runs import RunResult
from kampanj.errors import NotFoundError, UserError
from kampanj.ingest.account import account_zone
from kampanj.model.activities import ActivityTypeDef, ActivityTypeRegistry
from kampanj.model.conversions import (
    CLEAR,
    UNCHANGED,
    ValueConversionError,
    convert_json,
    json_value,
)
from kampanj.model.fields import FieldType
from kampanj.store.activities_repo import activity_row
from kampanj.store.database import Database
from kampanj.store.registry import load_activity_types
from kampanj.store.schema import activity, activity_type, person

# Built once: an event is a handful of statements, and building them costs more than
# executing them (SQLAlchemy caches the compiled form of a statement object).
_TYPE_ROWS = select(activity_type).order_by(activity_type.c.id)
_PERSON = select(person.c.id).where(person.c.id == bindparam("person_id"))
_INSERT = insert(activity).returning(activity.c.id)
_ZONED = frozenset({FieldType.DATE, FieldType.DATETIME})
_TYPES: dict[str, ActivityTypeRegistry] = {}


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
        found = _activity_types(connection).resolve(activity_type)
        if found is None:
            raise UserError(
                f"unknown activity type {activity_type!r}; use an id or name such as "
                "1 or 'Visit Webpage' (`kampanj activities types` lists them)"
            )
        if connection.execute(_PERSON, {"person_id": person_id}).first() is None:
            raise NotFoundError(f"there is no person {person_id}")
        typed = _typed_attributes(found, attributes or {}, connection)
        row = activity_row(
            person_id=person_id,
            activity_type_id=found.id,
            activity_date=at if at is not None else clock.now(),
            attributes=typed,
            primary_attribute_value=primary,
            primary_attribute_value_id=primary_id,
        )
        activity_id = int(connection.execute(_INSERT, row).scalar_one())
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


def _activity_types(connection: Connection) -> ActivityTypeRegistry:
    """The registry, rebuilt only when the stored custom types changed (reading the few
    rows is cheap; building the registry from them is not)."""
    key = repr(connection.execute(_TYPE_ROWS).all())
    found = _TYPES.get(key)
    if found is None:
        found = load_activity_types(connection)
        _TYPES.clear()
        _TYPES[key] = found
    return found


def _typed_attributes(
    activity_type: ActivityTypeDef, raw: Mapping[str, object], connection: Connection
) -> dict[str, object]:
    """Attributes under canonical names (GEN-7), converted to their declared types (ACT-9);
    dates are read in the account zone (looked up only when one is given)."""
    zone: Any = None
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
        if zone is None and declared.data_type in _ZONED:
            zone = account_zone(connection)
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
