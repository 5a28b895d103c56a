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
- The file is read in chunks (`people_rows`, in a second process for large files); each
  chunk is one transaction with one lookup query, one multi-row insert, one multi-row
  update and set-based activity inserts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table

from kampanj.clock import Clock
from kampanj.ingest.account import account_zone
from kampanj.ingest.changes import change_data_value, new_lead_shared
from kampanj.ingest.people_rows import (
    Lookup,
    ParseSpec,
    PersonRow,
    RowChunk,
    parse_chunks,
)
from kampanj.ingest.pipeline import background_chunks, worth_a_second_process
from kampanj.ingest.report import ImportReport, ProgressCallback, Skips, no_progress
from kampanj.ingest.sources import SourceFormat, format_for, open_source
from kampanj.model.fields import FieldDef
from kampanj.model.people import FieldValue
from kampanj.store import people_repo
from kampanj.store.activities_repo import insert_activities, insert_activity_per_person
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table

__all__ = ["DEFAULT_CHUNK_SIZE", "Lookup", "import_people"]

DEFAULT_CHUNK_SIZE = 10_000  # rows per transaction: large enough for bulk speed, small in memory


@dataclass(frozen=True, kw_only=True, slots=True)
class _Context:
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
    parallel: bool | None = None,
) -> ImportReport:
    """Create or update the people in ``source`` (ACT-5 Source ``Import``, ACT-7).

    ``parallel`` parses in a second process while this one writes; None decides by file
    size and core count.
    """
    started = time.perf_counter()
    found_format = format_for(source, file_format)
    handle, total = open_source(source)
    handle.close()
    with database.read() as connection:
        registry = load_field_registry(connection)
        zone = account_zone(connection)
    context = _Context(
        table=person_table(registry),
        zone=zone,
        lookup=lookup,
        by_column={f.column: f for f in registry},
    )
    spec = ParseSpec(
        source=source,
        file_format=found_format,
        registry=registry,
        zone=zone,
        lookup=lookup,
        chunk_size=chunk_size,
    )
    skips = Skips()
    counts = _Counts()
    for chunk in _chunks(spec, total, parallel):
        skips.rows.extend(chunk.skipped)
        if chunk.rows:
            with database.begin() as connection:
                _write_chunk(connection, context, chunk, clock.now(), counts, skips)
        on_progress(chunk.bytes_read, total)
    return ImportReport(
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        skipped=skips.frozen(),
        seconds=time.perf_counter() - started,
    )


def _chunks(spec: ParseSpec, size: int, parallel: bool | None) -> Iterator[RowChunk]:
    if parallel is None:
        parallel = worth_a_second_process(size)
    return background_chunks(parse_chunks, spec) if parallel else parse_chunks(spec)


@dataclass(kw_only=True, slots=True)
class _Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _write_chunk(
    connection: Connection,
    context: _Context,
    chunk: RowChunk,
    now: datetime,
    counts: _Counts,
    skips: Skips,
) -> None:
    columns = chunk.columns
    matches = _existing(connection, context, chunk.rows)
    creates: list[PersonRow] = []
    updates: list[tuple[Any, dict[str, FieldValue]]] = []
    for row in chunk.rows:
        line, key, values, blanks = row
        found = matches.get(key)
        if not found:
            if context.lookup is Lookup.ID:
                skips.add(line, f"person {key} does not exist")
            else:
                creates.append(row)
            continue
        if len(found) > 1:
            ids = ", ".join(str(p["id"]) for p in found)
            skips.add(
                line,
                f"{len(found)} people (ids {ids}) have email {key!r}; cannot tell which "
                "to update: use --lookup id",
            )
            continue
        current = found[0]
        changed = {
            column: value
            for position, (column, value) in enumerate(zip(columns, values, strict=True))
            if not (blanks >> position) & 1 and current[column] != value
        }
        if not changed:
            counts.unchanged += 1
            continue
        blocked = [
            context.by_column[c].name for c in changed if context.by_column[c].update_blocked
        ]
        if blocked:
            skips.add(
                line,
                f"{', '.join(blocked)}: can only be set when the person is created "
                "(update-blocked field)",
            )
            continue
        updates.append((current, changed))

    if creates:
        new_ids = people_repo.allocate_person_ids(connection, len(creates))
        people_repo.insert_people(
            connection,
            context.table,
            ["id", *columns],
            [(person_id, *row[2]) for person_id, row in zip(new_ids, creates, strict=True)],
            constants={"created_at": now, "updated_at": now},
        )
        insert_activity_per_person(connection, new_ids, new_lead_shared(now, context.zone))
        counts.created += len(creates)
    if updates:
        _write_updates(connection, context, updates, now)
        counts.updated += len(updates)


def _write_updates(
    connection: Connection,
    context: _Context,
    updates: list[tuple[Any, dict[str, FieldValue]]],
    now: datetime,
) -> None:
    columns: dict[str, None] = {}
    for _, changed in updates:
        columns.update(dict.fromkeys(changed))
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
    people_repo.update_people(connection, context.table, [*columns, "updated_at"], params)
    insert_activities(connection, changes)


def _existing(
    connection: Connection, context: _Context, rows: list[PersonRow]
) -> dict[Any, list[Any]]:
    keys = [row[1] for row in rows]
    if context.lookup is Lookup.EMAIL:
        emails = [key for key in keys if isinstance(key, str)]
        return dict(people_repo.find_by_emails(connection, context.table, emails))
    ids = [key for key in keys if isinstance(key, int)]
    return {k: [v] for k, v in people_repo.find_by_ids(connection, context.table, ids).items()}
