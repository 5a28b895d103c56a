"""Activity and inactivity filters (SL-22, SL-23, ACT-8, REQ-12, EXE-22).

An activity filter asks whether the person has at least ``Min. Number of Times``
retained activities of its type that satisfy the primary condition, every constraint
and ``Date of Activity`` (default ``in past 30 days``). Constraints read the activity's
JSON ``attributes`` through SQLAlchemy's JSON accessors, so attribute names travel as
bound parameters on both dialects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Select,
    cast,
    func,
    literal_column,
    not_,
    select,
    true,
    union_all,
)

from kampanj.model.activities import ActivityTypeDef
from kampanj.model.smartlists import Condition, Rule
from kampanj.smartlist.backends import PersonSet
from kampanj.smartlist.catalogue import (
    DATE_OF_ACTIVITY,
    DEFAULT_ACTIVITY_WINDOW,
    MIN_NUMBER_OF_TIMES,
    CatalogueEntry,
    RuleKind,
)
from kampanj.smartlist.conditions import (
    Shape,
    TemporalTest,
    condition_sql,
    number_value,
    shape_of,
    temporal_test,
)
from kampanj.smartlist.context import CompileContext, InvalidSmartList, Placement, checked_operator
from kampanj.store.schema import activity


@dataclass(frozen=True, kw_only=True, slots=True)
class ActivityPlan:
    """The pieces of one activity filter, shared by the compiler and explain."""

    where: tuple[ColumnElement[bool], ...]
    """Conditions on one ``activity`` row (type, retention, window, primary, constraints)."""
    minimum: int
    """``Min. Number of Times`` (SL-22, default 1)."""
    window: Condition
    """The ``Date of Activity`` condition in force."""
    window_test: TemporalTest
    """The window resolved against the clock (explain shows its bounds)."""
    retained_since: datetime | None
    """Activities before this instant are invisible (ACT-8); None keeps everything."""
    value_only: bool = False
    """True when the primary value is the only column tested besides type and date, so
    PostgreSQL can answer from ``ix_activity_type_date_value`` alone (see `value_split`)."""


def activity_plan(rule: Rule, entry: CatalogueEntry, ctx: CompileContext) -> ActivityPlan:
    """Check and resolve an activity rule's conditions (filters only)."""
    activity_type = entry.activity_type
    assert activity_type is not None
    name = repr(entry.name)
    if rule.operator:
        raise InvalidSmartList(
            f"{name} is an activity filter: put conditions under its attributes (SL-1)"
        )
    conditions: list[ColumnElement[bool]] = []
    attribute_constraints = 0
    if rule.primary is not None:
        conditions.append(primary_sql(rule.primary, entry, ctx))
    window = DEFAULT_ACTIVITY_WINDOW
    minimum = 1
    for condition in rule.constraints:
        spec = entry.constraint(condition.name)
        if spec is None:
            raise InvalidSmartList(f"{name} has no constraint {condition.name!r} (SL-21)")
        operator = checked_operator(
            f"{name} {spec.name!r}", spec, condition.operator, condition.values
        )
        if spec.name == DATE_OF_ACTIVITY:
            window = Condition(name=spec.name, operator=operator, values=condition.values)
        elif spec.name == MIN_NUMBER_OF_TIMES:
            minimum = int(number_value(condition.values[0]))
        else:
            conditions.append(constraint_sql(activity_type, spec.name, operator, condition, ctx))
            attribute_constraints += 1
    window_test = temporal_test(window.operator, window.values, ctx.moment, by_day=False)
    # Type and window first: they are the index range; the rest filters inside it.
    where: list[ColumnElement[bool]] = [
        activity.c.activity_type_id == activity_type.id,
        condition_sql(
            activity.c.activity_date, Shape.INSTANT, window.operator, window.values, ctx.moment
        ),
    ]
    retained_since = None
    if activity_type.retention_days is not None:
        retained_since = ctx.moment.now - timedelta(days=activity_type.retention_days)
        if not _window_inside(window_test, retained_since):
            where.append(activity.c.activity_date >= retained_since)  # ACT-8
    where.extend(conditions)
    return ActivityPlan(
        where=tuple(where),
        minimum=minimum,
        window=window,
        window_test=window_test,
        retained_since=retained_since,
        value_only=rule.primary is not None and not attribute_constraints,
    )


VALUE_INDEX_BYTES = 2000
"""Primary values up to this size (bytes, empty counted as 0) are carried in PostgreSQL's
partial index ``ix_activity_type_date_value`` (migration 0009); a b-tree entry is limited
to about 2.7 kB, so longer ones are left to ``ix_activity_value_long``. The two index
predicates and `value_split` must stay textually the same expression."""


def value_split() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(short, long): the row's primary value fits ``ix_activity_type_date_value`` or not.

    Exactly one of the two holds for every row (``coalesce`` keeps NULL out), so the union
    of the two branches is the original row set. The constants are written into the SQL,
    not bound: PostgreSQL uses a partial index only when it can prove the query implies the
    index predicate, which it cannot do through a parameter.
    """
    size = func.octet_length(
        func.coalesce(activity.c.primary_attribute_value, literal_column("''"))
    )
    limit: ColumnElement[int] = literal_column(str(VALUE_INDEX_BYTES))
    return size <= limit, size > limit


def _split_rows(plan: ActivityPlan) -> tuple[Select[Any], Select[Any]]:
    """``person_id`` of the matching rows as short-value and long-value branches."""
    short, long = value_split()
    return (
        select(activity.c.person_id).where(*plan.where, short),
        select(activity.c.person_id).where(*plan.where, long),
    )


def _has_activity(plan: ActivityPlan, ctx: CompileContext) -> ColumnElement[bool]:
    """The person has at least one matching activity.

    Over the whole database, a test of the primary value alone reads the value from the
    index on PostgreSQL (two partial-index branches, see `value_split`) instead of
    fetching every activity in the window from the table; SQLite's covering index holds
    the value already.
    """
    plain = ctx.person_in(activity.c.person_id, *plan.where)
    if ctx.placement is Placement.PERSON or not plan.value_only:
        return plain
    rows = select(activity.c.person_id).where(*plan.where)
    return PersonSet(ctx.person.c.id, _split_rows(plan), sqlite=ctx.person.c.id.in_(rows))


def _window_inside(test: TemporalTest, since: datetime) -> bool:
    """Whether every instant the window admits is at or after ``since``.

    Then the retention bound (ACT-8) adds nothing, and leaving it out keeps a second lower
    bound on ``activity_date`` from competing with the window for the index range.
    """
    return (
        not test.negate
        and bool(test.spans)
        and all(isinstance(span.lower, datetime) and span.lower >= since for span in test.spans)
    )


def primary_sql(
    condition: Condition, entry: CatalogueEntry, ctx: CompileContext
) -> ColumnElement[bool]:
    """The primary attribute condition over ``primary_attribute_value`` (stored as text)."""
    spec = entry.primary
    activity_type = entry.activity_type
    if spec is None or activity_type is None or activity_type.primary is None:
        raise InvalidSmartList(f"{entry.name!r} has no primary attribute; use its constraints")
    operator = checked_operator(
        f"{entry.name!r} {spec.name!r}", spec, condition.operator, condition.values
    )
    column: ColumnElement[Any] = activity.c.primary_attribute_value
    shape = shape_of(activity_type.primary.data_type, in_json=True)
    if shape is Shape.NUMBER:
        column = cast(column, Float)
    elif shape is Shape.BOOLEAN:
        # Booleans held as text: compare the words.
        shape = Shape.TEXT
        condition = Condition(name=condition.name, operator="is", values=(operator == "is true",))
        operator = "is"
    return condition_sql(column, shape, operator, condition.values, ctx.moment)


def constraint_sql(
    activity_type: ActivityTypeDef,
    attribute_name: str,
    operator: str,
    condition: Condition,
    ctx: CompileContext,
) -> ColumnElement[bool]:
    """One constraint over the JSON attribute ``attribute_name``; absent = empty (SL-20)."""
    attribute = activity_type.attribute(attribute_name)
    assert attribute is not None
    shape = shape_of(attribute.data_type, in_json=True)
    element = activity.c.attributes[attribute.name]
    operand: ColumnElement[Any]
    if shape is Shape.NUMBER:
        operand = element.as_float()
    elif shape is Shape.BOOLEAN:
        operand = element.as_boolean()
    else:
        operand = element.as_string()
    return condition_sql(operand, shape, operator, condition.values, ctx.moment)


def compile_activity(rule: Rule, entry: CatalogueEntry, ctx: CompileContext) -> ColumnElement[bool]:
    """Activity filter: count ≥ minimum; inactivity filter: count = 0 (SL-22, SL-23)."""
    plan = activity_plan(rule, entry, ctx)
    if entry.kind is RuleKind.INACTIVITY:
        return not_(_has_activity(plan, ctx))
    if plan.minimum <= 0:
        return true()
    if plan.minimum == 1:
        return _has_activity(plan, ctx)
    counted = (
        select(func.count())
        .where(activity.c.person_id == ctx.person.c.id, *plan.where)
        .scalar_subquery()
    ) >= plan.minimum
    if ctx.placement is Placement.PERSON:
        return counted
    # Over the whole table, SQLite does best with the correlated count through the
    # person-leading index: it runs only for persons the cheaper filters and the other
    # branches of an OR leave undecided, where a GROUP BY would sort every activity in
    # the window. PostgreSQL pays several microseconds per correlated call and hashes
    # the grouped window instead.
    frequent = (
        select(activity.c.person_id)
        .where(*plan.where)
        .group_by(activity.c.person_id)
        .having(func.count() >= plan.minimum)
    )
    if plan.value_only:
        rows = union_all(*_split_rows(plan)).subquery()
        frequent = (
            select(rows.c.person_id).group_by(rows.c.person_id).having(func.count() >= plan.minimum)
        )
    return PersonSet(ctx.person.c.id, (frequent,), sqlite=counted)


def explain_activity(
    connection: Connection, rule: Rule, entry: CatalogueEntry, ctx: CompileContext, person_id: int
) -> dict[str, Any]:
    """Matching activity ids, their count against the minimum, and the window bounds."""
    plan = activity_plan(rule, entry, ctx)
    rows = connection.execute(
        select(activity.c.id, activity.c.activity_date)
        .where(activity.c.person_id == person_id, *plan.where)
        .order_by(activity.c.activity_date, activity.c.id)
    ).all()
    bounds = plan.window_test.spans[0] if plan.window_test.spans else None
    return {
        "activityType": entry.activity_type.name if entry.activity_type else None,
        "matchingActivityIds": [row.id for row in rows],
        "count": len(rows),
        "minimum": 0 if entry.kind is RuleKind.INACTIVITY else plan.minimum,
        "comparison": "count = 0" if entry.kind is RuleKind.INACTIVITY else "count ≥ minimum",
        "window": {
            "operator": plan.window.operator,
            "values": list(plan.window.values),
            "from": bounds.lower if bounds else None,
            "to": bounds.upper if bounds else None,
        },
        "retainedSince": plan.retained_since,
    }
