"""Reading people files: the column-wise fast path must equal the row-by-row path."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kampanj.ingest import people_rows
from kampanj.ingest.people_rows import Lookup, ParseSpec, RowChunk, parse_chunks
from kampanj.ingest.sources import SourceFormat
from kampanj.model.fields import FieldRegistry

HEADER = ("email", "firstName", "leadScore", "unsubscribed", "title")

emails = st.one_of(
    st.integers(1, 30).map(lambda n: f"p{n}@example.com"),
    st.sampled_from(["", "NULL", "not-an-email", "  ", "P1@Example.com"]),
)
names = st.one_of(st.text(max_size=6), st.sampled_from(["", " ", "NULL", "x" * 300]))
scores = st.one_of(
    st.integers(-(2**31) - 2, 2**31 + 2).map(str), st.sampled_from(["", "abc", "+7", " 5 "])
)
flags = st.sampled_from(["true", "false", "yes", "no", "1", "0", "", "maybe", "TRUE"])
rows = st.lists(st.tuples(emails, names, scores, flags, names), max_size=40)


def _spec(path: Path, chunk_size: int) -> ParseSpec:
    return ParseSpec(
        source=path,
        file_format=SourceFormat.CSV,
        registry=FieldRegistry.standard(),
        zone=ZoneInfo("UTC"),
        lookup=Lookup.EMAIL,
        chunk_size=chunk_size,
    )


def _write(path: Path, records: list[tuple[str, ...]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(records)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _flatten(chunks: list[RowChunk]) -> tuple[list[object], list[object]]:
    found = [(chunk.columns, row) for chunk in chunks for row in chunk.rows]
    skipped = sorted((s.line, s.reason) for chunk in chunks for s in chunk.skipped)
    return found, skipped  # type: ignore[return-value]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=rows, chunk_size=st.integers(1, 12))
def test_fast_path_reads_exactly_what_the_row_path_reads(
    records: list[tuple[str, ...]], chunk_size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FLOW-13/FLOW-14 conversions and per-row skip reasons do not depend on the path taken."""
    source = _write(tmp_path / "people.csv", records)
    fast = _flatten(list(parse_chunks(_spec(source, chunk_size))))
    with monkeypatch.context() as patch:
        patch.setattr(people_rows, "_read_batch_fast", lambda *_args: False)
        slow = _flatten(list(parse_chunks(_spec(source, chunk_size))))
    assert fast == slow


def test_clean_batches_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write(
        tmp_path / "people.csv",
        [(f"p{n}@example.com", "Ann", str(n), "true", "CEO") for n in range(1, 51)],
    )
    calls: list[int] = []
    original = people_rows._read_batch

    def counting(*args: object) -> None:
        calls.append(1)
        original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(people_rows, "_read_batch", counting)
    chunks = list(parse_chunks(_spec(source, 10)))
    assert calls == []
    assert sum(len(chunk.rows) for chunk in chunks) == 50
    line, key, values, blanks = chunks[0].rows[0]
    assert (line, key, blanks) == (2, "p1@example.com", 0)
    assert dict(zip(chunks[0].columns, values, strict=True)) == {
        "email": "p1@example.com",
        "first_name": "Ann",
        "lead_score": 1,
        "unsubscribed": True,
        "title": "CEO",
    }


def test_a_quoted_newline_across_a_batch_boundary_stays_one_record(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        'email,title\na@example.com,"Head\nof Growth"\nb@example.com,CEO\n', encoding="utf-8"
    )
    spec = ParseSpec(
        source=source,
        file_format=SourceFormat.CSV,
        registry=FieldRegistry.standard(),
        zone=ZoneInfo("UTC"),
        lookup=Lookup.EMAIL,
        chunk_size=1,
    )
    rows = [row for chunk in parse_chunks(spec) for row in chunk.rows]
    assert [(line, values) for line, _key, values, _blanks in rows] == [
        (2, ("a@example.com", "Head\nof Growth")),
        (4, ("b@example.com", "CEO")),
    ]
