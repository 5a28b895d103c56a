"""Attribute filters (SL-12..SL-19): a person column compared with the filter's values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from kampanj.model.smartlists import Rule
from kampanj.smartlist.catalogue import CatalogueEntry
from kampanj.smartlist.conditions import condition_sql, shape_of
from kampanj.smartlist.context import CompileContext, checked_operator


def _column(entry: CatalogueEntry, ctx: CompileContext) -> ColumnElement[Any]:
    assert entry.field is not None
    # The column comes from the field registry, never from the rule's text.
    return ctx.person.c[entry.field.column]


def compile_attribute(
    rule: Rule, entry: CatalogueEntry, ctx: CompileContext
) -> ColumnElement[bool]:
    """``<field> <operator> <values>`` over the person's current value (SL-19)."""
    assert entry.subject is not None and entry.field is not None
    operator = checked_operator(repr(entry.name), entry.subject, rule.operator, rule.values)
    shape = shape_of(entry.field.data_type)
    return condition_sql(_column(entry, ctx), shape, operator, rule.values, ctx.moment)


def explain_attribute(
    connection: Connection, rule: Rule, entry: CatalogueEntry, ctx: CompileContext, person_id: int
) -> dict[str, Any]:
    """The field's current value next to the operator and expected values."""
    assert entry.subject is not None and entry.field is not None
    actual = connection.execute(
        select(_column(entry, ctx)).where(ctx.person.c.id == person_id)
    ).scalar()
    return {
        "field": entry.field.display_name,
        "operator": entry.subject.operator(rule.operator or "") or rule.operator,
        "expected": list(rule.values),
        "actual": actual,
    }
