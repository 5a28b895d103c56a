"""Whole-database filters as person sets, in the SQL form each backend plans best.

A filter answered by a subquery over another table (activities, memberships) is a
`PersonSet`: the ids it selects, plus the form SQLite runs. Where SQLite and PostgreSQL
plan the same question best in different shapes, both forms travel in one element and the
dialect picks one when the statement is compiled, so the statement stays a single
SQLAlchemy expression that runs on either database (golden tests show both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Select, or_, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


class PersonSet(ColumnElement[bool]):
    """The person is among the ids some subqueries select (a whole-database filter).

    On PostgreSQL: ``person.id IN (rows)``, several ``rows`` joined by ``UNION``; on SQLite:
    the ``sqlite`` form (tuned for its planner, see `compile_activities`). Sets OR-ed in the
    filter logic merge into one (`merge_sets`), so ``2 or 3`` over two activity filters is a
    single ``IN`` over the union of their persons: PostgreSQL turns it into one semi-join it
    can merge in person-id order, where two IN lists under an ``OR`` stay two hashed
    subplans, each probed for every person. ``UNION`` rather than ``UNION ALL`` because
    PostgreSQL estimates the distinct ids of a ``UNION`` (the sum of its branches) and not
    of a ``UNION ALL`` (a default 200, which made it pick a nested loop over ``person``).
    """

    type = Boolean()
    _is_implicitly_boolean = True
    inherit_cache = False

    def __init__(
        self,
        person_id: ColumnElement[Any],
        rows: tuple[Select[Any], ...],
        *,
        sqlite: ColumnElement[bool],
    ) -> None:
        self.person_id = person_id
        self.rows = rows
        self.sqlite = sqlite

    def default(self) -> ColumnElement[bool]:
        if len(self.rows) == 1:
            return self.person_id.in_(self.rows[0])
        return self.person_id.in_(union(*self.rows))


@compiles(PersonSet)
def _compile_set_default(element: PersonSet, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.default(), **kw)


@compiles(PersonSet, "sqlite")
def _compile_set_sqlite(element: PersonSet, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.sqlite, **kw)


def merge_sets(parts: Sequence[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """``parts`` of an OR with every `PersonSet` over the same person column merged into one.

    The merged set selects the union of the rows; its SQLite form is the OR of the parts'
    forms, grouped so that an enclosing ``NOT`` or ``AND`` applies to the whole.
    """
    sets = [part for part in parts if isinstance(part, PersonSet)]
    if len(sets) < 2 or any(s.person_id is not sets[0].person_id for s in sets):
        return list(parts)
    merged = PersonSet(
        sets[0].person_id,
        tuple(row for s in sets for row in s.rows),
        sqlite=or_(*(s.sqlite for s in sets)).self_group(),
    )
    first = next(index for index, part in enumerate(parts) if part is sets[0])
    return [
        merged if index == first else part
        for index, part in enumerate(parts)
        if index == first or not isinstance(part, PersonSet)
    ]
