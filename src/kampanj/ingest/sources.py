"""Reading import files line by line without loading them whole."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, NamedTuple

from kampanj.errors import ImportFileError

_UTF8_BOM = b"\xef\xbb\xbf"


class SourceFormat(StrEnum):
    """Import file formats."""

    CSV = "csv"
    JSONL = "jsonl"


_EXTENSIONS = {
    ".csv": SourceFormat.CSV,
    ".jsonl": SourceFormat.JSONL,
    ".ndjson": SourceFormat.JSONL,
}


def format_for(path: Path, explicit: SourceFormat | None) -> SourceFormat:
    """The format given, else the one the file extension names."""
    if explicit is not None:
        return explicit
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise ImportFileError(
            f"cannot tell the format of {path.name!r} from its extension; "
            "name it .csv or .jsonl, or pass --format csv|jsonl"
        )
    return found


class LineReader:
    """Decoded lines of a UTF-8 file; counts bytes and notes lines that do not decode.

    An undecodable line is replaced by an empty one so line numbers stay aligned, and its
    number is recorded in `bad_lines` for the caller to report.
    """

    def __init__(self, handle: Iterable[bytes], *, lines_before: int = 0) -> None:
        self._handle = handle
        self.bytes_read = 0
        self.line = lines_before  # lines of the file before ``handle``'s first one
        self.bad_lines: list[int] = []

    def __iter__(self) -> Iterator[str]:
        for raw in self._handle:
            self.bytes_read += len(raw)
            self.line += 1
            if self.line == 1 and raw.startswith(_UTF8_BOM):
                raw = raw[len(_UTF8_BOM) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.append(self.line)
                yield "\n"


def open_source(path: Path) -> tuple[BinaryIO, int]:
    """The file opened for binary reading, and its size."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise ImportFileError(f"file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ImportFileError(f"{str(path)!r} is a directory, not a file") from None
    except OSError as error:
        raise ImportFileError(f"cannot read {str(path)!r}: {error.strerror}") from None
    return handle, path.stat().st_size


NOT_UTF8 = "line is not valid UTF-8 text"


class Record(NamedTuple):
    """One CSV record or JSONL object, or why it could not be read."""

    line: int
    """Line where the record starts."""
    cells: list[str] | None = None
    """CSV values."""
    document: object = None
    """JSONL value."""
    error: str | None = None
    """Why the record is unreadable."""


def csv_header(reader: LineReader, lines: Iterator[str]) -> tuple[list[str], Iterator[Record]]:
    """The header row and an iterator over the following records."""
    rows = csv.reader(lines, strict=True)
    try:
        header = next(rows)
    except StopIteration:
        raise ImportFileError("the file is empty: the first line must name the fields") from None
    except csv.Error as error:
        raise ImportFileError(f"cannot read the header line: {error}") from None
    if reader.bad_lines:
        raise ImportFileError("the header line is not valid UTF-8 text")
    return header, _csv_records(reader, rows)


def csv_records(reader: LineReader) -> Iterator[Record]:
    """The CSV records of ``reader``'s lines (no header), each with its starting line."""
    return _csv_records(reader, csv.reader(iter(reader), strict=True))


def _csv_records(reader: LineReader, rows: Iterator[list[str]]) -> Iterator[Record]:
    bad_seen = 0
    while True:
        start = reader.line + 1
        try:
            cells = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            yield Record(line=start, error=f"malformed CSV: {error}")
            continue
        if len(reader.bad_lines) > bad_seen:
            bad_seen = len(reader.bad_lines)
            yield Record(line=reader.bad_lines[-1], error=NOT_UTF8)
            continue
        if not cells:
            continue
        yield Record(line=start, cells=cells)


def jsonl_records(reader: LineReader) -> Iterator[Record]:
    """One record per non-blank line."""
    bad_seen = 0
    for text in reader:
        if len(reader.bad_lines) > bad_seen:
            bad_seen = len(reader.bad_lines)
            yield Record(line=reader.line, error=NOT_UTF8)
            continue
        if not text.strip():
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            yield Record(
                line=reader.line, error=f"not valid JSON: {error.msg} at column {error.colno}"
            )
            continue
        if not isinstance(document, dict):
            yield Record(line=reader.line, error="expected a JSON object ({...}) on each line")
            continue
        yield Record(line=reader.line, document=document)
