"""Multi-row inserts that convert each column's values with its type once per column kind.

SQLAlchemy's executemany converts every parameter of every row through the compiled
statement; for imports of millions of rows that dominates the cost. Here each column's
bind processor (the same conversion SQLAlchemy would apply, from `TypeEngine.bind_processor`)
runs only for columns that need one, values shared by all rows are converted once, and the
rows go to the driver's ``executemany`` in one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from psycopg import sql as psycopg_sql
from sqlalchemy import Boolean, Connection, Table, bindparam, insert

Processor = Callable[[Any], Any]


def bulk_insert(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (values in ``columns`` order) plus ``constants`` shared by every row."""
    if not rows:
        return
    shared = dict(constants or {})
    dialect = connection.dialect
    names = [*columns, *shared]
    statement = insert(table).values({name: bindparam(name) for name in names})
    compiled = statement.compile(dialect=dialect)
    processors: list[tuple[int, Processor]] = []
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, Boolean):
            continue  # both drivers bind Python bools natively; values are validated already
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((index, processor))
    fixed = []
    for name, value in shared.items():
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        fixed.append(processor(value) if processor is not None and value is not None else value)
    converted: Sequence[Sequence[Any]] = (
        rows if not processors else [_convert(row, processors) for row in rows]
    )
    if dialect.name == "postgresql":
        _postgres_copy(connection, table, names, converted, fixed)
        return
    sql = str(compiled)
    if compiled.positional:
        # The compiled statement lists columns in table order; put each row in that order.
        positions = [names.index(name) for name in compiled.positiontup or ()]
        if positions == list(range(len(names))):
            ordered = [(*row, *fixed) for row in converted] if fixed else list(converted)
        else:
            order = itemgetter(*positions)
            ordered = [order((*row, *fixed)) for row in converted]
            if len(names) == 1:
                ordered = [(value,) for value in ordered]
        if dialect.name == "sqlite":
            _sqlite_multi_values(connection, sql, ordered, len(names))
        else:
            connection.exec_driver_sql(sql, ordered)
    else:
        parameters = [dict(zip(names, (*row, *fixed), strict=True)) for row in converted]
        connection.exec_driver_sql(sql, parameters)


def _postgres_copy(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fixed: Sequence[Any],
) -> None:
    # COPY is PostgreSQL's bulk path: one round trip per chunk instead of one per row. The
    # table and column names come from the schema and are quoted as identifiers.
    statement = psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg_sql.Identifier(table.name),
        psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(name) for name in names),
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        if fixed:
            for row in rows:
                copy.write_row((*row, *fixed))
        else:
            for row in rows:
                copy.write_row(row)


SQLITE_MAX_PARAMETERS = 32_766  # SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32
SQLITE_ROWS_PER_STATEMENT = 200


def _sqlite_multi_values(connection: Connection, sql: str, rows: list[Any], width: int) -> None:
    # One statement per row makes SQLite update sqlite_sequence (AUTOINCREMENT) and reset
    # the statement for every row; a VALUES list of many rows per statement avoids both.
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, SQLITE_MAX_PARAMETERS // width))
    prefix, _, group = sql.partition(" VALUES ")
    full = len(rows) - len(rows) % per
    if full:
        statement = f"{prefix} VALUES {', '.join([group] * per)}"
        batches = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, full, per)]
        connection.exec_driver_sql(statement, batches)
    if full < len(rows):
        rest = rows[full:]
        statement = f"{prefix} VALUES {', '.join([group] * len(rest))}"
        connection.exec_driver_sql(statement, tuple(chain.from_iterable(rest)))


def _convert(row: Sequence[Any], processors: list[tuple[int, Processor]]) -> list[Any]:
    values = list(row)
    for index, processor in processors:
        value = values[index]
        if value is not None:
            values[index] = processor(value)
    return values
