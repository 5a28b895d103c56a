"""Reading people files into chunks of typed rows (the parsing half of `import_people`).

Everything here is picklable and free of database access, so it can run in a second
process (`kampanj.ingest.pipeline`) while the first one writes.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from enum import StrEnum
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, NamedTuple

from kampanj.errors import ImportFileError
from kampanj.ingest.report import SkippedRow
from kampanj.ingest.sources import (
    LineReader,
    Record,
    SourceFormat,
    csv_header,
    csv_records,
    jsonl_records,
    open_source,
)
from kampanj.model.conversions import (
    CLEAR,
    CLEAR_TEXT,
    MAX_STRING_LENGTH,
    UNCHANGED,
    ColumnParser,
    TextParser,
    ValueConversionError,
    column_parser,
    convert_json,
    email_problem,
    parse_integer,
    text_parser,
)
from kampanj.model.fields import FieldDef, FieldRegistry, FieldType
from kampanj.model.people import FieldValue

ID_FIELD = "id"
EMAIL_FIELD = "email"


class Lookup(StrEnum):
    """How an import row finds the person it updates."""

    EMAIL = "email"
    """By email address, case-insensitively; no match creates a person."""
    ID = "id"
    """By person id; no match skips the row."""


PersonRow = tuple[int, str | int, tuple[FieldValue, ...], int]
"""One importable row: ``(line, key, values, blanks)``.

``line`` is where the row starts in the file; ``key`` the lower-cased email or the person id
that identifies the person; ``values`` are aligned with the chunk's columns, a blank cell
holding None; bit i of ``blanks`` is set when column i was blank, so an update leaves the
stored value alone (FLOW-13). A plain tuple, not a NamedTuple: chunks cross a process
boundary and plain tuples pickle several times faster.
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class RowChunk:
    """Rows parsed from a stretch of the file, with the rows skipped on the way."""

    columns: tuple[str, ...]
    """``person`` columns the rows' values are aligned with."""
    rows: list[PersonRow]
    """Rows to write, first occurrences of their key only."""
    skipped: list[SkippedRow]
    """Rows of this stretch that could not be read."""
    bytes_read: int
    """Bytes of the file read so far."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ParseSpec:
    """Everything parsing needs; picklable so parsing can run in another process."""

    source: Path
    """The file."""
    file_format: SourceFormat
    """CSV or JSONL."""
    registry: FieldRegistry
    """Field names and types."""
    zone: tzinfo
    """Account time zone for datetimes without an offset (FLOW-14)."""
    lookup: Lookup
    """What identifies a person."""
    chunk_size: int
    """Rows per chunk."""


@dataclass(kw_only=True, slots=True)
class _Pending:
    rows: list[PersonRow] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)

    def skip(self, line: int, reason: str) -> None:
        self.skipped.append(SkippedRow(line=line, reason=reason))


def parse_chunks(spec: ParseSpec) -> Iterator[RowChunk]:
    """Read ``spec.source`` and yield chunks of at most ``spec.chunk_size`` rows."""
    handle, _size = open_source(spec.source)
    with handle:
        if spec.file_format is SourceFormat.CSV:
            yield from _csv_chunks(spec, handle)
        else:
            yield from _jsonl_chunks(spec, LineReader(handle))


# ---------------------------------------------------------------- CSV


class _Column(NamedTuple):
    cell: int  # position in the CSV record
    column: str  # person column
    name: str  # REST name, for messages
    parse: TextParser | None  # None: a string kept as is (bounded by `limit`)
    limit: int
    parse_column: ColumnParser | None  # the whole-column form of `parse`


def _csv_plan(spec: ParseSpec, header: list[str]) -> tuple[list[_Column], int | None]:
    """The columns to read, in ``person`` table order, and the id column's index."""
    registry, lookup = spec.registry, spec.lookup
    unknown: list[str] = []
    problems: list[str] = []
    plan: list[tuple[int, _Column]] = []
    key_index: int | None = None
    seen: dict[str, str] = {}
    order = {f.name: position for position, f in enumerate(registry)}
    for index, name in enumerate(header):
        found = registry.get(name)
        if found is None:
            unknown.append(name)
            continue
        if found.name in seen:
            problems.append(
                f"columns {seen[found.name]!r} and {name!r} both name field {found.name!r}"
            )
            continue
        seen[found.name] = name
        if found.name == ID_FIELD and lookup is Lookup.ID:
            key_index = index
        elif found.read_only:
            problems.append(f"column {_read_only_reason(found)}; remove it")
        else:
            plan.append((order[found.name], _column_plan(index, found, spec.zone)))
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        problems.insert(
            0,
            f"unknown column{'s' if len(unknown) > 1 else ''} {listed}; valid field names "
            f"(REST or display name, any case): {valid_names(registry, lookup)}",
        )
    if lookup is Lookup.EMAIL and EMAIL_FIELD not in seen:
        problems.append("the file has no email column, which --lookup email needs")
    if lookup is Lookup.ID and key_index is None:
        problems.append("the file has no id column, which --lookup id needs")
    if problems:
        raise ImportFileError("; ".join(problems) + ". Nothing was imported.")
    return [column for _, column in sorted(plan)], key_index


def _column_plan(index: int, found: FieldDef, zone: tzinfo) -> _Column:
    if found.data_type is FieldType.STRING:
        return _Column(index, found.column, found.name, None, MAX_STRING_LENGTH, None)
    if found.data_type is FieldType.TEXT:
        return _Column(index, found.column, found.name, None, sys.maxsize, None)
    return _Column(
        index,
        found.column,
        found.name,
        _import_parser(found, zone),
        0,
        column_parser(found.data_type, zone),
    )


MAX_QUOTED_LINES = 10_000  # a batch is extended at most this far to close an open quote


@dataclass(kw_only=True, slots=True)
class _CsvState:
    """What reading a CSV file keeps from one batch of lines to the next."""

    spec: ParseSpec
    plan: list[_Column]
    rows: _CsvRowReader
    key_index: int | None
    email_position: int
    first_line: dict[str | int, int] = field(default_factory=dict)


def _csv_chunks(spec: ParseSpec, handle: BinaryIO) -> Iterator[RowChunk]:
    header_line = handle.readline()
    header_reader = LineReader([header_line])
    header, _ = csv_header(header_reader, iter(header_reader))
    plan, key_index = _csv_plan(spec, header)
    columns = tuple(c.column for c in plan)
    state = _CsvState(
        spec=spec,
        plan=plan,
        rows=_CsvRowReader(plan, len(header)),
        key_index=key_index,
        email_position=(
            columns.index(spec.registry[EMAIL_FIELD].column) if spec.lookup is Lookup.EMAIL else -1
        ),
    )
    lines_read, bytes_read = 1, len(header_line)
    pending = _Pending()
    while batch := _line_batch(handle, spec.chunk_size):
        if not _read_batch_fast(state, batch, lines_read + 1, pending):
            _read_batch(state, batch, lines_read, pending)
        lines_read += len(batch)
        bytes_read += sum(map(len, batch))
        if len(pending.rows) >= spec.chunk_size:
            yield RowChunk(
                columns=columns, rows=pending.rows, skipped=pending.skipped, bytes_read=bytes_read
            )
            pending = _Pending()
    yield RowChunk(
        columns=columns, rows=pending.rows, skipped=pending.skipped, bytes_read=bytes_read
    )


def _line_batch(handle: BinaryIO, size: int) -> list[bytes]:
    """The next ``size`` lines, extended while a quoted field is still open at the end."""
    batch = list(islice(handle, size))
    quotes = sum(line.count(b'"') for line in batch)
    extra = 0
    # Complete records hold an even number of quote characters ("" escapes count twice).
    while quotes % 2 and extra < MAX_QUOTED_LINES:
        line = handle.readline()
        if not line:
            break
        batch.append(line)
        quotes += line.count(b'"')
        extra += 1
    return batch


def _read_batch(state: _CsvState, batch: list[bytes], lines_before: int, pending: _Pending) -> None:
    """Read records one by one: exact line numbers and a reason for every bad row."""
    for record in csv_records(LineReader(batch, lines_before=lines_before)):
        row = state.rows.read(record, pending)
        if row is None:
            continue
        key = (
            _email_key(row[0], state.email_position)
            if state.spec.lookup is Lookup.EMAIL
            else _id_key(None if state.key_index is None else record.cells[state.key_index])  # type: ignore[index]
        )
        if isinstance(key, _Missing):
            pending.skip(record.line, key.reason)
        else:
            _keep_first(pending, state.first_line, state.spec.lookup, record.line, key, row)


def _read_batch_fast(state: _CsvState, batch: list[bytes], first: int, pending: _Pending) -> bool:
    """Read a whole batch column by column when nothing in it needs a per-row answer.

    Returns False, having changed nothing, when any line is not one well-formed record of
    clean values (bad UTF-8, a quoted newline, a blank or NULL or over-long cell, a value
    that does not convert, a repeated key): `_read_batch` then handles the batch.
    """
    try:
        text = b"".join(batch).decode("utf-8")
    except UnicodeDecodeError:
        return False
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(batch) or (first == 2 and lines and lines[0].startswith("\ufeff")):
        return False
    try:
        records = list(csv.reader(lines, strict=True))
    except csv.Error:
        return False
    width = state.rows.width
    if len(records) != len(lines) or set(map(len, records)) != {width}:
        return False
    cells = list(zip(*records, strict=True))
    values: list[tuple[FieldValue, ...]] = []
    for column in state.plan:
        texts = cells[column.cell]
        if "" in texts or CLEAR_TEXT in texts or any(map(str.isspace, texts)):
            return False
        if column.parse is None:
            if max(map(len, texts)) > column.limit:
                return False
            # Interned, the repeats of low-cardinality columns (country, status, company …)
            # pickle as back-references: the writing process then builds each string once.
            values.append(tuple(map(sys.intern, texts)))
            continue
        try:
            values.append(column.parse_column(texts))  # type: ignore[misc]
        except ValueConversionError:
            return False
    line_numbers = range(first, first + len(records))
    if state.spec.lookup is Lookup.EMAIL:
        keys: list[str | int] = list(map(str.lower, values[state.email_position]))  # type: ignore[arg-type]
    else:
        found = [_id_key(text) for text in cells[state.key_index or 0]]
        if any(isinstance(key, _Missing) for key in found):
            return False
        keys = found  # type: ignore[assignment]
    if len(set(keys)) != len(keys) or not state.first_line.keys().isdisjoint(keys):
        return False
    state.first_line.update(zip(keys, line_numbers, strict=True))
    pending.rows.extend(zip(line_numbers, keys, zip(*values, strict=True), repeat(0), strict=False))
    return True


class _CsvRowReader:
    """Turns CSV records into values; most rows take the fast path of `read`."""

    def __init__(self, plan: list[_Column], width: int) -> None:
        self.plan = plan
        self.width = width
        self.pick = _picker([c.cell for c in plan])
        self.typed = [(position, c) for position, c in enumerate(plan) if c.parse is not None]
        self.text_positions = [position for position, c in enumerate(plan) if c.parse is None]
        self.string_limit = min((c.limit for c in plan if c.parse is None), default=sys.maxsize)

    def read(self, record: Record, pending: _Pending) -> tuple[tuple[FieldValue, ...], int] | None:
        """The row's values and blank mask, or None (and a skip) when it cannot be read."""
        cells = record.cells
        if record.error is not None or cells is None:
            pending.skip(record.line, record.error or "unreadable row")
            return None
        if len(cells) != self.width:
            pending.skip(
                record.line,
                f"expected {self.width} values (one per header column), found {len(cells)}",
            )
            return None
        texts = self.pick(cells)
        # Fast path: no blank, NULL or whitespace-only cell and no over-long text, which is
        # nearly every row of a real file; then only the typed columns need converting.
        if (
            "" in texts
            or CLEAR_TEXT in texts
            or any(map(str.isspace, texts))
            or max(map(len, texts), default=0) > self.string_limit
        ):
            return self._read_slowly(record.line, texts, pending)
        values: list[FieldValue] = list(texts)
        for position, column in self.typed:
            try:
                values[position] = column.parse(texts[position])  # type: ignore[misc]
            except ValueConversionError as conversion:
                pending.skip(record.line, f"{column.name}: {conversion}")
                return None
        return tuple(values), 0

    def _read_slowly(
        self, line: int, texts: tuple[str, ...], pending: _Pending
    ) -> tuple[tuple[FieldValue, ...], int] | None:
        values: list[FieldValue] = []
        blanks = 0
        for position, (text, column) in enumerate(zip(texts, self.plan, strict=True)):
            if not text or text.isspace():
                values.append(None)
                blanks |= 1 << position
            elif text == CLEAR_TEXT:
                values.append(None)
            elif column.parse is None:
                if len(text) > column.limit:
                    pending.skip(line, f"{column.name}: {_too_long(text, column.limit)}")
                    return None
                values.append(text)
            else:
                try:
                    values.append(column.parse(text))
                except ValueConversionError as conversion:
                    pending.skip(line, f"{column.name}: {conversion}")
                    return None
        return tuple(values), blanks


def _picker(cells: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """A function taking the given cells of a record, as a tuple, in the given order."""
    if not cells:
        return lambda _record: ()
    if len(cells) == 1:
        only = cells[0]
        return lambda record: (record[only],)
    return itemgetter(*cells)


# ---------------------------------------------------------------- JSONL


def _jsonl_chunks(spec: ParseSpec, reader: LineReader) -> Iterator[RowChunk]:
    registry = spec.registry
    email_column = registry[EMAIL_FIELD].column
    first_line: dict[str | int, int] = {}
    pending = _Pending()
    documents: list[tuple[int, str | int, dict[str, FieldValue], set[str]]] = []
    for record in jsonl_records(reader):
        parsed = _jsonl_values(spec, record, pending)
        if parsed is not None:
            values, blank, id_value = parsed
            key = (
                _email_key_text(values.get(email_column))
                if spec.lookup is Lookup.EMAIL
                else _id_key(id_value)
            )
            if isinstance(key, _Missing):
                pending.skip(record.line, key.reason)
            elif _is_first(pending, first_line, spec.lookup, record.line, key):
                documents.append((record.line, key, values, blank))
        if len(documents) >= spec.chunk_size:
            yield _jsonl_chunk(documents, pending, reader.bytes_read)
            documents, pending = [], _Pending()
    yield _jsonl_chunk(documents, pending, reader.bytes_read)


def _jsonl_chunk(
    documents: list[tuple[int, str | int, dict[str, FieldValue], set[str]]],
    pending: _Pending,
    bytes_read: int,
) -> RowChunk:
    """Align the chunk's rows on the union of their keys; a missing key is a blank."""
    columns: dict[str, None] = {}
    for _, _, values, blank in documents:
        columns.update(dict.fromkeys(values))
        columns.update(dict.fromkeys(blank))
    ordered = tuple(columns)
    rows = []
    for line, key, values, blank in documents:
        mask = 0
        for position, column in enumerate(ordered):
            if column not in values or column in blank:
                mask |= 1 << position
        rows.append((line, key, tuple(values.get(c) for c in ordered), mask))
    return RowChunk(columns=ordered, rows=rows, skipped=pending.skipped, bytes_read=bytes_read)


def _jsonl_values(
    spec: ParseSpec, record: Record, pending: _Pending
) -> tuple[dict[str, FieldValue], set[str], object] | None:
    document = record.document
    if record.error is not None or not isinstance(document, dict):
        pending.skip(record.line, record.error or "unreadable row")
        return None
    registry, lookup, zone = spec.registry, spec.lookup, spec.zone
    values: dict[str, FieldValue] = {}
    blank: set[str] = set()
    id_value: object = None
    named: dict[str, str] = {}
    for name, raw in document.items():
        found = registry.get(name)
        if found is None:
            pending.skip(
                record.line,
                f"unknown field {name!r}; valid names: {valid_names(registry, lookup)}",
            )
            return None
        if found.name in named:
            pending.skip(
                record.line,
                f"keys {named[found.name]!r} and {name!r} both name field {found.name!r}",
            )
            return None
        named[found.name] = name
        if found.name == ID_FIELD and lookup is Lookup.ID:
            id_value = raw
            continue
        if found.read_only:
            pending.skip(record.line, f"field {_read_only_reason(found)}; remove it")
            return None
        try:
            value = convert_json(found.data_type, raw, zone)
            if found.data_type is FieldType.EMAIL and isinstance(value, str):
                issue = email_problem(value)
                if issue:
                    raise ValueConversionError(issue)
        except ValueConversionError as conversion:
            pending.skip(record.line, f"{found.name}: {conversion}")
            return None
        if value is UNCHANGED:
            blank.add(found.column)
        else:
            values[found.column] = None if value is CLEAR else value
    return values, blank, id_value


# ---------------------------------------------------------------- keys and duplicates


class _Missing(NamedTuple):
    reason: str


_NO_EMAIL = _Missing("missing email, which identifies the person (--lookup email)")


def _email_key(values: tuple[FieldValue, ...], position: int) -> str | _Missing:
    return _email_key_text(values[position])


def _email_key_text(email: FieldValue) -> str | _Missing:
    return email.lower() if isinstance(email, str) else _NO_EMAIL


def _id_key(id_value: object) -> int | _Missing:
    if id_value is None or (isinstance(id_value, str) and not id_value.strip()):
        return _Missing("missing id, which identifies the person (--lookup id)")
    if isinstance(id_value, bool) or not isinstance(id_value, str | int):
        return _Missing(f"id: {id_value!r} is not an integer")
    try:
        person_id = parse_integer(str(id_value))
    except ValueConversionError as error:
        return _Missing(f"id: {error}")
    if person_id <= 0:
        return _Missing(f"id: {id_value!r} is not a person id (ids are positive)")
    return person_id


def _is_first(
    pending: _Pending, first_line: dict[str | int, int], lookup: Lookup, line: int, key: str | int
) -> bool:
    """Whether ``key`` is new in the file; a repeat is skipped naming the first line."""
    first = first_line.setdefault(key, line)
    if first == line:
        return True
    what = "email" if lookup is Lookup.EMAIL else "id"
    pending.skip(line, f"duplicate {what} {key!r} (first on line {first})")
    return False


def _keep_first(
    pending: _Pending,
    first_line: dict[str | int, int],
    lookup: Lookup,
    line: int,
    key: str | int,
    row: tuple[tuple[FieldValue, ...], int],
) -> None:
    if _is_first(pending, first_line, lookup, line, key):
        pending.rows.append((line, key, row[0], row[1]))


# ---------------------------------------------------------------- messages and parsers


def _import_parser(found: FieldDef, zone: tzinfo) -> TextParser:
    """The FLOW-14 converter of ``found``, plus the address check for email fields."""
    parse = text_parser(found.data_type, zone)
    if found.data_type is not FieldType.EMAIL:
        return parse

    def parse_email(text: str) -> FieldValue:
        value = parse(text)
        problem = email_problem(text)
        if problem:
            raise ValueConversionError(problem)
        return value

    return parse_email


def valid_names(registry: FieldRegistry, lookup: Lookup) -> str:
    """Field names an import file may use."""
    names = [
        f.name for f in registry if not f.read_only or (f.name == ID_FIELD and lookup is Lookup.ID)
    ]
    return ", ".join(names)


def _read_only_reason(found: FieldDef) -> str:
    if found.name == ID_FIELD:
        return f"{found.name!r} is read-only; to update people by id use --lookup id"
    return f"{found.name!r} is read-only (kampanj sets it)"


def _too_long(text: str, limit: int) -> str:
    return f"value is {len(text)} characters long; at most {limit} are allowed"
