"""`import_activities`: load activity history from JSONL in bulk (ACT-1, ACT-6, ACT-9).

Each line is one object::

    {"personId": 7, "activityType": "Visit Webpage", "activityDate": "2026-03-01T09:30:00Z",
     "primaryAttributeValue": "/pricing", "primaryAttributeValueId": 12,
     "attributes": {"Webpage URL": "https://…"}, "campaignId": null}

``leadId`` is accepted for ``personId``; ``activityType`` is a type id or name; a date
without an offset is in the account time zone. A line naming a missing person or type,
an attribute the type does not declare, or a value of the wrong type is skipped with its
reason. Imported activities fire no triggers (ACT-6).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import tzinfo
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from kampanj.clock import Clock
from kampanj.ingest.account import account_zone
from kampanj.ingest.report import ActivityImportReport, ProgressCallback, Skips, no_progress
from kampanj.ingest.sources import LineReader, Record, jsonl_records, open_source
from kampanj.model.activities import ActivityTypeDef, ActivityTypeRegistry
from kampanj.model.conversions import (
    CLEAR,
    UNCHANGED,
    ValueConversionError,
    convert_json,
    json_value,
    parse_datetime,
)
from kampanj.model.fields import FieldType
from kampanj.store import people_repo
from kampanj.store.activities_repo import activity_row, insert_activities
from kampanj.store.database import Database
from kampanj.store.registry import load_activity_types

DEFAULT_CHUNK_SIZE = 20_000  # activities per transaction

_KEYS = (
    "personId",
    "leadId",
    "activityType",
    "activityTypeId",
    "activityDate",
    "primaryAttributeValue",
    "primaryAttributeValueId",
    "attributes",
    "campaignId",
)


class _Pending(NamedTuple):
    line: int
    row: dict[str, Any]


def import_activities(
    database: Database,
    source: Path,
    *,
    clock: Clock,
    on_progress: ProgressCallback = no_progress,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ActivityImportReport:
    """Append the activities in the JSONL file ``source``; they fire nothing (ACT-6)."""
    del clock  # imported activities carry their own dates; nothing here reads the time
    started = time.perf_counter()
    with database.read() as connection:
        types = load_activity_types(connection)
        zone = account_zone(connection)
    skips = Skips()
    imported = 0
    handle, total = open_source(source)
    with handle:
        reader = LineReader(handle)
        pending = _rows(jsonl_records(reader), types, zone, skips)
        while chunk := list(islice(pending, chunk_size)):
            with database.begin() as connection:
                known = people_repo.existing_ids(connection, (p.row["person_id"] for p in chunk))
                rows = []
                for item in chunk:
                    if item.row["person_id"] in known:
                        rows.append(item.row)
                    else:
                        skips.add(item.line, f"person {item.row['person_id']} does not exist")
                insert_activities(connection, rows)
                imported += len(rows)
            on_progress(reader.bytes_read, total)
    return ActivityImportReport(
        imported=imported, skipped=skips.frozen(), seconds=time.perf_counter() - started
    )


def _rows(
    records: Iterator[Record], types: ActivityTypeRegistry, zone: tzinfo, skips: Skips
) -> Iterator[_Pending]:
    for record in records:
        if record.error is not None or not isinstance(record.document, dict):
            skips.add(record.line, record.error or "unreadable row")
            continue
        try:
            row = _activity(record.document, types, zone)
        except ValueConversionError as error:
            skips.add(record.line, str(error))
            continue
        yield _Pending(record.line, row)


def _activity(
    document: dict[str, Any], types: ActivityTypeRegistry, zone: tzinfo
) -> dict[str, Any]:
    unknown = [key for key in document if key not in _KEYS]
    if unknown:
        raise ValueConversionError(
            f"unknown key {unknown[0]!r}; expected personId (or leadId), activityType, "
            "activityDate, primaryAttributeValue, primaryAttributeValueId, attributes, campaignId"
        )
    person_id = _positive_id(document, "personId") or _positive_id(document, "leadId")
    if person_id is None:
        raise ValueConversionError("missing personId (or leadId)")
    type_ref = document.get("activityType", document.get("activityTypeId"))
    activity_type = _activity_type(type_ref, types)
    date_text = document.get("activityDate")
    if not isinstance(date_text, str) or not date_text.strip():
        raise ValueConversionError("missing activityDate (ISO-8601, e.g. 2026-03-01T09:30:00Z)")
    try:
        activity_date = parse_datetime(date_text, zone)
    except ValueConversionError as error:
        raise ValueConversionError(f"activityDate: {error}") from None
    primary = document.get("primaryAttributeValue")
    if primary is not None and not isinstance(primary, str | int | float):
        raise ValueConversionError("primaryAttributeValue: expected text or a number")
    return activity_row(
        person_id=person_id,
        activity_type_id=activity_type.id,
        activity_date=activity_date,
        primary_attribute_value=None if primary is None else str(primary),
        primary_attribute_value_id=_positive_id(document, "primaryAttributeValueId"),
        campaign_id=_positive_id(document, "campaignId"),
        attributes=_attributes(document.get("attributes"), activity_type, zone),
    )


def _positive_id(document: dict[str, Any], key: str) -> int | None:
    value = document.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueConversionError(f"{key}: {value!r} is not an id (a positive integer)")
    return value


def _activity_type(reference: object, types: ActivityTypeRegistry) -> ActivityTypeDef:
    if reference is None or reference == "":
        raise ValueConversionError("missing activityType (an activity type id or name)")
    if isinstance(reference, bool) or not isinstance(reference, str | int):
        raise ValueConversionError(f"activityType: {reference!r} is not an id or a name")
    found = types.resolve(reference)
    if found is None:
        raise ValueConversionError(
            f"unknown activity type {reference!r}; use an id or name such as 1 or 'Visit Webpage'"
        )
    return found


def _attributes(raw: object, activity_type: ActivityTypeDef, zone: tzinfo) -> dict[str, object]:
    """Attributes under their canonical names (GEN-7), converted to the declared types."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueConversionError('attributes: expected an object such as {"Webpage URL": "…"}')
    converted: dict[str, object] = {}
    for name, value in raw.items():
        declared = next(
            (a for a in activity_type.attributes if a.name.casefold() == name.strip().casefold()),
            None,
        )
        if declared is None:
            names = ", ".join(a.name for a in activity_type.attributes) or "none"
            raise ValueConversionError(
                f"attribute {name!r} does not belong to {activity_type.name} "
                f"(its attributes: {names})"
            )
        try:
            typed = convert_json(declared.data_type, _text_for(declared.data_type, value), zone)
        except ValueConversionError as error:
            raise ValueConversionError(f"{declared.name}: {error}") from None
        if typed is UNCHANGED or typed is CLEAR:
            continue
        converted[declared.name] = json_value(typed)
    return converted


def _text_for(data_type: FieldType, value: object) -> object:
    # Attribute values of textual types are often numbers in event feeds (ids, codes).
    if data_type.is_textual and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value
