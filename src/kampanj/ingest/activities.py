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
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from kampanj.clock import Clock
from kampanj.ingest.account import account_zone
from kampanj.ingest.pipeline import background_chunks, worth_a_second_process
from kampanj.ingest.report import (
    ActivityImportReport,
    ProgressCallback,
    SkippedRow,
    Skips,
    no_progress,
)
from kampanj.ingest.sources import LineReader, jsonl_records, open_source
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


@dataclass(frozen=True, kw_only=True, slots=True)
class _ParseSpec:
    """What parsing needs; picklable so it can run in the pipeline's second process."""

    source: Path
    types: ActivityTypeRegistry
    zone: tzinfo
    chunk_size: int


@dataclass(frozen=True, kw_only=True, slots=True)
class _Chunk:
    """Activity rows parsed from a stretch of the file, with the lines skipped on the way."""

    rows: list[tuple[int, dict[str, Any]]]  # (line, row for insert_activities)
    skipped: list[SkippedRow]
    bytes_read: int


def import_activities(
    database: Database,
    source: Path,
    *,
    clock: Clock,
    on_progress: ProgressCallback = no_progress,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    parallel: bool | None = None,
) -> ActivityImportReport:
    """Append the activities in the JSONL file ``source``; they fire nothing (ACT-6).

    ``parallel`` parses in a second process while this one writes; None decides by file
    size and core count.
    """
    del clock  # imported activities carry their own dates; nothing here reads the time
    started = time.perf_counter()
    handle, total = open_source(source)
    handle.close()
    with database.read() as connection:
        types = load_activity_types(connection)
        zone = account_zone(connection)
    spec = _ParseSpec(source=source, types=types, zone=zone, chunk_size=chunk_size)
    if parallel is None:
        parallel = worth_a_second_process(total)
    chunks = background_chunks(_parse_chunks, spec) if parallel else _parse_chunks(spec)
    skips = Skips()
    imported = 0
    for chunk in chunks:
        skips.rows.extend(chunk.skipped)
        if chunk.rows:
            with database.begin() as connection:
                imported += _write_chunk(connection, chunk, skips)
        on_progress(chunk.bytes_read, total)
    return ActivityImportReport(
        imported=imported, skipped=skips.frozen(), seconds=time.perf_counter() - started
    )


def _write_chunk(connection: Connection, chunk: _Chunk, skips: Skips) -> int:
    known = people_repo.existing_ids(connection, (row["person_id"] for _, row in chunk.rows))
    rows = []
    for line, row in chunk.rows:
        if row["person_id"] in known:
            rows.append(row)
        else:
            skips.add(line, f"person {row['person_id']} does not exist")
    insert_activities(connection, rows, {"history": True})  # ACT-6: history fires nothing
    return len(rows)


def _parse_chunks(spec: _ParseSpec) -> Iterator[_Chunk]:
    handle, _size = open_source(spec.source)
    with handle:
        reader = LineReader(handle)
        rows: list[tuple[int, dict[str, Any]]] = []
        skipped: list[SkippedRow] = []
        for record in jsonl_records(reader):
            if record.error is not None or not isinstance(record.document, dict):
                skipped.append(
                    SkippedRow(line=record.line, reason=record.error or "unreadable row")
                )
            else:
                try:
                    rows.append((record.line, _activity(record.document, spec.types, spec.zone)))
                except ValueConversionError as error:
                    skipped.append(SkippedRow(line=record.line, reason=str(error)))
            if len(rows) >= spec.chunk_size:
                yield _Chunk(rows=rows, skipped=skipped, bytes_read=reader.bytes_read)
                rows, skipped = [], []
        yield _Chunk(rows=rows, skipped=skipped, bytes_read=reader.bytes_read)


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
