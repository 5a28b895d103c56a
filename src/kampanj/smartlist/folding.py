"""Case folding for the case-insensitive text operators (SL-12), the same on every backend.

PostgreSQL's ``lower()`` under a libc UTF-8 locale maps each character through its
simple Unicode lowercase mapping (``Å`` → ``å``, ``ẞ`` → ``ß``, ``Σ`` → ``σ`` wherever it
stands, ``İ`` → ``i``), while SQLite's built-in ``lower()`` maps ASCII letters only. So
on SQLite the compiler calls `SQLITE_FOLD_FUNCTION`, which the database layer registers
on every connection as `fold_case` (text that is pure ASCII takes the built-in ``lower()``,
which folds it identically and faster); on PostgreSQL it calls ``lower()``. Filter values are
folded in Python with the same `fold_case`, and so is the in-memory trigger matcher.

SQLite's ``lower`` itself is left alone: the ``lower(email)`` index that e-mail lookups
use depends on it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, String, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FOLD_FUNCTION = "kampanj_fold"
"""Name of the SQL function registered on SQLite connections."""

# Python's str.lower applies full case mapping: ``İ`` becomes two characters and a final
# ``Σ`` becomes ``ς``. Folding one character at a time, with U+0130's simple mapping,
# gives the per-character simple mapping PostgreSQL applies.
_SIMPLE_EXCEPTIONS = {"\u0130": "i"}


def fold_case(text: str) -> str:
    """``text`` with every character replaced by its simple lowercase mapping."""
    if text.isascii():
        return text.lower()
    return "".join(_SIMPLE_EXCEPTIONS.get(char) or char.lower() for char in text)


def sqlite_fold(value: Any) -> Any:
    """The SQLite function body: folds text, passes NULL and other types through."""
    return fold_case(value) if isinstance(value, str) else value


class folded(FunctionElement[str]):
    """``operand`` case-folded by the backend's rule (see module docs)."""

    type = String()
    inherit_cache = True


@compiles(folded)
def _fold_with_lower(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _fold_with_registered_function(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    # ASCII-only text (as many characters as bytes) folds the same with the built-in
    # lower(), which costs far less than a call into Python per row.
    operand = compiler.process(element.clauses, **kw)
    return (
        f"CASE WHEN length({operand}) = length(CAST({operand} AS BLOB)) "
        f"THEN lower({operand}) ELSE {SQLITE_FOLD_FUNCTION}({operand}) END"
    )


def fold_sql(operand: ColumnElement[Any]) -> ColumnElement[str]:
    """``operand`` folded in SQL exactly as `fold_case` folds Python text."""
    return folded(operand)


class position(FunctionElement[int]):
    """1-based position of ``needle`` in ``haystack``, 0 when absent (both backends)."""

    type = Integer()
    inherit_cache = True


@compiles(position)
def _position_with_strpos(element: position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(position, "sqlite")
def _position_with_instr(element: position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


def contains_sql(folded_text: ColumnElement[str], needle: str) -> ColumnElement[bool]:
    """``needle`` occurs in ``folded_text``: a plain substring search, no LIKE pattern.

    SQLite evaluates ``LIKE '%' || ? || '%' ESCAPE '/'`` through its slow generic matcher;
    ``instr`` is several times faster, and ``%`` and ``_`` need no escaping.
    """
    return position(folded_text, needle) > 0


def starts_with_sql(folded_text: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """``folded_text`` begins with ``prefix`` (both databases count characters)."""
    return func.substr(folded_text, 1, len(prefix)) == prefix
