"""One predicate, two SQL forms: the backend chooses when the statement is compiled.

Where SQLite and PostgreSQL plan the same question best in different shapes, the
compiler builds both and wraps them in `per_backend`; the statement stays a single
SQLAlchemy expression that runs on either database (golden tests show both).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


class PerBackend(ColumnElement[bool]):
    """``sqlite`` when compiled for SQLite, ``default`` otherwise."""

    type = Boolean()
    # Both forms are comparisons (IN, EXISTS, >=): without this, SQLAlchemy writes
    # ``… = 1`` after them on SQLite, which hides an ``IN`` from SQLite's planner.
    _is_implicitly_boolean = True
    # The two forms carry their own bound parameters; statements holding this element
    # are compiled per execution rather than cached.
    inherit_cache = False

    def __init__(self, *, sqlite: ColumnElement[bool], default: ColumnElement[bool]) -> None:
        self.sqlite = sqlite
        self.default = default


@compiles(PerBackend)
def _compile_default(element: PerBackend, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.default, **kw)


@compiles(PerBackend, "sqlite")
def _compile_sqlite(element: PerBackend, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.sqlite, **kw)


def per_backend(*, sqlite: ColumnElement[bool], default: ColumnElement[bool]) -> PerBackend:
    """A predicate compiled as ``sqlite`` on SQLite and as ``default`` elsewhere."""
    return PerBackend(sqlite=sqlite, default=default)
