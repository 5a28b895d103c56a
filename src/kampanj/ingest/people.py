"""`import_people`: upsert people from CSV or JSONL in bulk, logging ACT-7 activities.

Behaviour a user sees:

- Columns (CSV header) and keys (JSONL) are field names: REST or display names, any case
  (GEN-7). In a CSV an unknown or read-only column stops the import before anything is
  written, naming the column and the valid names; in JSONL (where every line may have
  other keys) such a key skips that line.
- ``id`` is accepted only as the lookup column (``lookup=id``); ``createdAt``,
  ``updatedAt`` and ``acquisitionProgramId`` are never imported (read-only, GEN-10).
- A blank cell leaves the stored value alone and ``NULL`` clears it, as for Change Data
  Value (FLOW-13); other values convert per FLOW-14. JSON ``null`` clears too.
- A row whose value does not convert, whose email is invalid, whose lookup value is
  missing, or which repeats an earlier row's lookup value is skipped with its line and
  reason; the other rows still load.
- The file is read in chunks; each chunk is one transaction with one lookup query, one
  multi-row insert, one multi-row update and one multi-row activity insert.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table

from kampanj.clock import Clock
from kampanj.errors import ImportFileError
from kampanj.ingest.account import account_zone
from kampanj.ingest.changes import change_data_value, new_lead_shared
from kampanj.ingest.report import ImportReport, ProgressCallback, Skips, no_progress
from kampanj.ingest.sources import (
    LineReader,
    Record,
    SourceFormat,
    csv_header,
    format_for,
    jsonl_records,
    open_source,
)
from kampanj.ingest.values import (
    CLEAR,
    CLEAR_TEXT,
    MAX_STRING_LENGTH,
    UNCHANGED,
    TextParser,
    ValueConversionError,
    convert_json,
    email_problem,
    parse_integer,
    text_parser,
)
from kampanj.model.fields import FieldDef, FieldRegistry, FieldType
from kampanj.model.people import FieldValue
from kampanj.store import people_repo
from kampanj.store.activities_repo import insert_activities
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table

DEFAULT_CHUNK_SIZE = 10_000  # rows per transaction: large enough for bulk speed, small in memory
ID_FIELD = "id"
EMAIL_FIELD = "email"


class Lookup(StrEnum):
    """How an import row finds the person it updates."""

    EMAIL = "email"
    """By email address, case-insensitively; no match creates a person."""
    ID = "id"
    """By person id; no match skips the row."""


class _Row(NamedTuple):
    line: int
    key: str | int
    values: dict[str, FieldValue]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Context:
    registry: FieldRegistry
    table: Table
    zone: tzinfo
    lookup: Lookup
    by_column: dict[str, FieldDef]


def import_people(
    database: Database,
    source: Path,
    *,
    lookup: Lookup = Lookup.EMAIL,
    file_format: SourceFormat | None = None,
    clock: Clock,
    on_progress: ProgressCallback = no_progress,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ImportReport:
    """Create or update the people in ``source`` (ACT-5 Source ``Import``, ACT-7)."""
    started = time.perf_counter()
    found_format = format_for(source, file_format)
    with database.read() as connection:
        registry = load_field_registry(connection)
        zone = account_zone(connection)
    context = _Context(
        registry=registry,
        table=person_table(registry),
        zone=zone,
        lookup=lookup,
        by_column={f.column: f for f in registry},
    )
    skips = Skips()
    counts = _Counts()
    handle, total = open_source(source)
    with handle:
        reader = LineReader(handle)
        lines = iter(reader)
        if found_format is SourceFormat.CSV:
            header, records = csv_header(reader, lines)
            rows = _csv_rows(context, header, records, skips)
        else:
            rows = _jsonl_rows(context, jsonl_records(reader), skips)
        unique = _first_occurrences(rows, lookup, skips)
        while chunk := list(islice(unique, chunk_size)):
            with database.begin() as connection:
                _write_chunk(connection, context, chunk, clock.now(), counts, skips)
            on_progress(reader.bytes_read, total)
    return ImportReport(
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        skipped=skips.frozen(),
        seconds=time.perf_counter() - started,
    )


@dataclass(kw_only=True, slots=True)
class _Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


# ---------------------------------------------------------------- reading rows


def _import_parser(field: FieldDef, zone: tzinfo) -> TextParser:
    """The FLOW-14 converter of ``field``, plus the address check for email fields."""
    parse = text_parser(field.data_type, zone)
    if field.data_type is not FieldType.EMAIL:
        return parse

    def parse_email(text: str) -> FieldValue:
        value = parse(text)
        problem = email_problem(text)
        if problem:
            raise ValueConversionError(problem)
        return value

    return parse_email


def _valid_names(registry: FieldRegistry, lookup: Lookup) -> str:
    names = [
        f.name for f in registry if not f.read_only or (f.name == ID_FIELD and lookup is Lookup.ID)
    ]
    return ", ".join(names)


def _read_only_reason(field: FieldDef, lookup: Lookup) -> str:
    if field.name == ID_FIELD:
        return f"{field.name!r} is read-only; to update people by id use --lookup id"
    return f"{field.name!r} is read-only (kampanj sets it)"


def _csv_rows(
    context: _Context, header: list[str], records: Iterator[Record], skips: Skips
) -> Iterator[_Row]:
    registry, lookup = context.registry, context.lookup
    unknown: list[str] = []
    problems: list[str] = []
    plan: list[tuple[int, str, str, TextParser]] = []
    key_index: int | None = None
    seen: dict[str, str] = {}
    for index, name in enumerate(header):
        field = registry.get(name)
        if field is None:
            unknown.append(name)
            continue
        if field.name in seen:
            problems.append(
                f"columns {seen[field.name]!r} and {name!r} both name field {field.name!r}"
            )
            continue
        seen[field.name] = name
        if field.name == ID_FIELD and lookup is Lookup.ID:
            key_index = index
        elif field.read_only:
            problems.append(f"column {_read_only_reason(field, lookup)}; remove it")
        else:
            plan.append((index, field.column, field.name, _import_parser(field, context.zone)))
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        problems.insert(
            0,
            f"unknown column{'s' if len(unknown) > 1 else ''} {listed}; valid field names "
            f"(REST or display name, any case): {_valid_names(registry, lookup)}",
        )
    if lookup is Lookup.EMAIL and EMAIL_FIELD not in seen:
        problems.append("the file has no email column, which --lookup email needs")
    if lookup is Lookup.ID and key_index is None:
        problems.append("the file has no id column, which --lookup id needs")
    if problems:
        raise ImportFileError("; ".join(problems) + ". Nothing was imported.")
    width = len(header)
    email_column = registry[EMAIL_FIELD].column
    column_names = {column: name for _, column, name, _ in plan}
    strings = [
        (index, column, _string_limit(context.by_column[column]))
        for index, column, _, _ in plan
        if context.by_column[column].data_type in (FieldType.STRING, FieldType.TEXT)
    ]
    plan = [step for step in plan if step[:2] not in {s[:2] for s in strings}]
    for record in records:
        line, cells, error = record.line, record.cells, record.error
        if error is not None or cells is None:
            skips.add(line, error or "unreadable row")
            continue
        if len(cells) != width:
            skips.add(line, f"expected {width} values (one per header column), found {len(cells)}")
            continue
        values: dict[str, FieldValue] = {}
        problem = None
        # Plain strings are the bulk of most files: handled inline, without a call per cell.
        for index, column, limit in strings:
            text = cells[index]
            if text and not text.isspace():
                if len(text) > limit:
                    problem = f"{column_names[column]}: {_too_long(text, limit)}"
                    break
                values[column] = None if text == CLEAR_TEXT else text
        if problem is not None:
            skips.add(line, problem)
            continue
        for index, column, name, parse in plan:
            text = cells[index]
            if not text or text.isspace():
                continue
            if text == CLEAR_TEXT:
                values[column] = None
                continue
            try:
                values[column] = parse(text)
            except ValueConversionError as conversion:
                problem = f"{name}: {conversion}"
                break
        if problem is not None:
            skips.add(line, problem)
            continue
        key = _key(context, values, email_column, None if key_index is None else cells[key_index])
        if isinstance(key, _Missing):
            skips.add(line, key.reason)
            continue
        yield _Row(line, key, values)


def _string_limit(field: FieldDef) -> int:
    return MAX_STRING_LENGTH if field.data_type is FieldType.STRING else sys.maxsize


def _too_long(text: str, limit: int) -> str:
    return f"value is {len(text)} characters long; at most {limit} are allowed"


class _Missing(NamedTuple):
    reason: str


def _key(
    context: _Context, values: dict[str, FieldValue], email_column: str, id_text: object
) -> str | int | _Missing:
    if context.lookup is Lookup.EMAIL:
        email = values.get(email_column)
        if not isinstance(email, str):
            return _Missing("missing email, which identifies the person (--lookup email)")
        return email.lower()
    if id_text is None or (isinstance(id_text, str) and not id_text.strip()):
        return _Missing("missing id, which identifies the person (--lookup id)")
    if isinstance(id_text, bool) or not isinstance(id_text, str | int):
        return _Missing(f"id: {id_text!r} is not an integer")
    try:
        person_id = parse_integer(str(id_text))
    except ValueConversionError as error:
        return _Missing(f"id: {error}")
    if person_id <= 0:
        return _Missing(f"id: {id_text!r} is not a person id (ids are positive)")
    return person_id


def _jsonl_rows(context: _Context, records: Iterator[Record], skips: Skips) -> Iterator[_Row]:
    registry, lookup, zone = context.registry, context.lookup, context.zone
    email_column = registry[EMAIL_FIELD].column
    for record in records:
        line, document = record.line, record.document
        if record.error is not None or not isinstance(document, dict):
            skips.add(line, record.error or "unreadable row")
            continue
        values: dict[str, FieldValue] = {}
        problem = None
        id_value: object = None
        named: dict[str, str] = {}
        for name, raw in document.items():
            field = registry.get(name)
            if field is None:
                problem = f"unknown field {name!r}; valid names: {_valid_names(registry, lookup)}"
                break
            if field.name in named:
                problem = f"keys {named[field.name]!r} and {name!r} both name field {field.name!r}"
                break
            named[field.name] = name
            if field.name == ID_FIELD and lookup is Lookup.ID:
                id_value = raw
                continue
            if field.read_only:
                problem = f"field {_read_only_reason(field, lookup)}; remove it"
                break
            try:
                value = convert_json(field.data_type, raw, zone)
                if field.data_type is FieldType.EMAIL and isinstance(value, str):
                    email_issue = email_problem(value)
                    if email_issue:
                        raise ValueConversionError(email_issue)
            except ValueConversionError as conversion:
                problem = f"{field.name}: {conversion}"
                break
            if value is UNCHANGED:
                continue
            values[field.column] = None if value is CLEAR else value
        if problem is not None:
            skips.add(line, problem)
            continue
        key = _key(context, values, email_column, id_value)
        if isinstance(key, _Missing):
            skips.add(line, key.reason)
            continue
        yield _Row(line, key, values)


def _first_occurrences(rows: Iterator[_Row], lookup: Lookup, skips: Skips) -> Iterator[_Row]:
    """Drop rows repeating an earlier row's lookup value; the first one wins."""
    first_line: dict[str | int, int] = {}
    what = "email" if lookup is Lookup.EMAIL else "id"
    for row in rows:
        first = first_line.setdefault(row.key, row.line)
        if first != row.line:
            skips.add(row.line, f"duplicate {what} {row.key!r} (first on line {first})")
            continue
        yield row


# ---------------------------------------------------------------- writing a chunk


def _write_chunk(
    connection: Connection,
    context: _Context,
    rows: list[_Row],
    now: datetime,
    counts: _Counts,
    skips: Skips,
) -> None:
    table = context.table
    matches = _existing(connection, context, rows)
    creates: list[_Row] = []
    updates: list[tuple[Any, dict[str, FieldValue]]] = []
    for row in rows:
        found = matches.get(row.key)
        if not found:
            if context.lookup is Lookup.ID:
                skips.add(row.line, f"person {row.key} does not exist")
            else:
                creates.append(row)
            continue
        if len(found) > 1:
            ids = ", ".join(str(p["id"]) for p in found)
            skips.add(
                row.line,
                f"{len(found)} people (ids {ids}) have email {row.key!r}; cannot tell which "
                "to update: use --lookup id",
            )
            continue
        current = found[0]
        changed = {c: v for c, v in row.values.items() if current[c] != v}
        if not changed:
            counts.unchanged += 1
            continue
        blocked = [
            context.by_column[c].name for c in changed if context.by_column[c].update_blocked
        ]
        if blocked:
            skips.add(
                row.line,
                f"{', '.join(blocked)}: can only be set when the person is created "
                "(update-blocked field)",
            )
            continue
        updates.append((current, changed))

    if creates:
        new_ids = people_repo.allocate_person_ids(connection, len(creates))
        columns = _union(row.values for row in creates)
        inserts = [
            (person_id, *[row.values.get(c) for c in columns])
            for person_id, row in zip(new_ids, creates, strict=True)
        ]
        people_repo.insert_people(
            connection,
            table,
            ["id", *columns],
            inserts,
            constants={"created_at": now, "updated_at": now},
        )
        insert_activities(
            connection,
            [{"person_id": person_id} for person_id in new_ids],
            constants=new_lead_shared(now, context.zone),
        )
        counts.created += len(creates)
    if updates:
        columns = _union(changed for _, changed in updates)
        params = []
        changes: list[dict[str, Any]] = []
        for current, changed in updates:
            values = {c: changed[c] if c in changed else current[c] for c in columns}
            values["updated_at"] = now
            params.append(people_repo.update_params(current["id"], values))
            for column, new in changed.items():
                changes.append(
                    change_data_value(
                        current["id"], context.by_column[column], current[column], new, now
                    )
                )
        people_repo.update_people(connection, table, [*columns, "updated_at"], params)
        insert_activities(connection, changes)
        counts.updated += len(updates)


def _existing(connection: Connection, context: _Context, rows: list[_Row]) -> dict[Any, list[Any]]:
    if context.lookup is Lookup.EMAIL:
        emails = [row.key for row in rows if isinstance(row.key, str)]
        return dict(people_repo.find_by_emails(connection, context.table, emails))
    ids = [row.key for row in rows if isinstance(row.key, int)]
    return {k: [v] for k, v in people_repo.find_by_ids(connection, context.table, ids).items()}


def _union(mappings: Iterable[dict[str, FieldValue]]) -> list[str]:
    columns: dict[str, None] = {}
    for mapping in mappings:
        for column in mapping:
            columns[column] = None
    return list(columns)
