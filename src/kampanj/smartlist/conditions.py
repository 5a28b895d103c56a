"""Operator semantics of one condition (SL-11..SL-18), as SQL over any operand.

The same functions serve person columns (attribute filters), JSON attributes of
activities (constraints), the activity date and program membership columns. Every
predicate built here is two-valued — TRUE or FALSE, never NULL — so that ``not`` in
advanced logic means what it says even where the operand is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, not_, or_, true

from kampanj.model.fields import FieldType
from kampanj.model.smartlists import Value
from kampanj.smartlist import dates
from kampanj.smartlist.catalogue import ANY_OPERATOR
from kampanj.smartlist.folding import contains_sql, fold_case, fold_sql, starts_with_sql

NEGATIVE_TEXT_OPERATORS = frozenset({"is not", "not starts with", "not contains"})  # SL-11


class Shape(StrEnum):
    """How an operand's values compare."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    INSTANT = "instant"
    """A UTC date-time column."""
    DAY = "day"
    """A calendar-date column."""
    DAY_TEXT = "day text"
    """ISO text whose first ten characters are the day (temporal JSON attributes)."""


def shape_of(data_type: FieldType, *, in_json: bool = False) -> Shape:
    """How values of ``data_type`` compare; temporal JSON attributes compare by day."""
    if data_type.is_textual:
        return Shape.TEXT
    if data_type.is_numeric:
        return Shape.NUMBER
    if data_type is FieldType.BOOLEAN:
        return Shape.BOOLEAN
    if in_json:
        return Shape.DAY_TEXT
    return Shape.DAY if data_type is FieldType.DATE else Shape.INSTANT


@dataclass(frozen=True, kw_only=True, slots=True)
class Moment:
    """What relative operators are measured from (GEN-1)."""

    now: datetime
    """The injected clock's instant."""
    zone: tzinfo
    """The account time zone for calendar days and time frames."""


# -- values -----------------------------------------------------------------------------


def text_value(value: Value) -> str:
    """A filter value as text: booleans as true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def number_value(value: Value) -> int | float:
    """A validated numeric filter value: an int when whole, else a float."""
    number = Decimal(text_value(value))
    if number == number.to_integral_value():
        return int(number)
    return float(number)


# -- temporal tests ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Span:
    """``lower ≤ x < upper`` (either side open when None); bounds are instants or days."""

    lower: datetime | date | None = None
    upper: datetime | date | None = None
    upper_inclusive: bool = False
    lower_exclusive: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class TemporalTest:
    """A date operator resolved against the clock: inside any span (negated or not)."""

    spans: tuple[Span, ...]
    """The value must fall in one of these (or in none when ``negate``)."""
    negate: bool = False
    """True for ``is not``."""
    empty: bool = False
    """Whether an empty value matches (SL-16)."""


def temporal_test(
    operator: str, values: Sequence[Value], moment: Moment, *, by_day: bool
) -> TemporalTest:
    """Resolve a date operator to spans of instants (``by_day`` False) or days (SL-14..17)."""
    zone = moment.zone
    now = moment.now

    def days(first: date, last: date) -> Span:
        period = dates.days_period(first, last, zone)
        if by_day:
            return Span(lower=period.first_day, upper=period.end_day)
        return Span(lower=period.start, upper=period.end)

    def day(value: Value) -> date:
        return dates.calendar_day(value, zone)

    def at(instant: datetime) -> datetime | date:
        return dates.local_day(instant, zone) if by_day else instant

    match operator:
        case "is" | "is not":
            spans = tuple(days(day(v), day(v)) for v in values)
            return TemporalTest(
                spans=spans, negate=operator == "is not", empty=operator == "is not"
            )
        case "between":
            first, last = sorted((day(values[0]), day(values[1])))
            return TemporalTest(spans=(days(first, last),))
        case "after":
            return TemporalTest(spans=(Span(lower=days(day(values[0]), day(values[0])).upper),))
        case "on or after":
            return TemporalTest(spans=(Span(lower=days(day(values[0]), day(values[0])).lower),))
        case "before":
            bound = days(day(values[0]), day(values[0])).lower
            return TemporalTest(spans=(Span(upper=bound),), empty=True)
        case "on or before":
            bound = days(day(values[0]), day(values[0])).upper
            return TemporalTest(spans=(Span(upper=bound),), empty=True)
        case "in past":
            start = now - dates.relative_span(values[0])
            return TemporalTest(spans=(_closed(at(start), at(now), by_day),))
        case "in past before":
            return TemporalTest(
                spans=(Span(upper=at(now - dates.relative_span(values[0]))),), empty=True
            )
        case "in future":
            end = now + dates.relative_span(values[0])
            return TemporalTest(spans=(_closed(at(now), at(end), by_day),))
        case "in future after":
            bound = at(now + dates.relative_span(values[0]))
            return TemporalTest(spans=(Span(lower=bound, lower_exclusive=True),))
        case "in time frame":
            period = dates.time_frame(values[0], now, zone)
            if by_day:
                return TemporalTest(spans=(Span(lower=period.first_day, upper=period.end_day),))
            return TemporalTest(spans=(Span(lower=period.start, upper=period.end),))
        case "is empty":
            return TemporalTest(spans=(), empty=True)
        case "is not empty":
            return TemporalTest(spans=(Span(),))
    raise ValueError(f"operator {operator!r} does not apply to dates")


def _closed(lower: datetime | date, upper: datetime | date, by_day: bool) -> Span:
    if by_day:
        assert isinstance(upper, date)
        return Span(lower=lower, upper=upper + timedelta(days=1))
    return Span(lower=lower, upper=upper, upper_inclusive=True)


def span_holds(span: Span, value: datetime | date) -> bool:
    """Whether ``value`` lies inside ``span`` (values and bounds of one kind)."""
    lower: Any = span.lower
    upper: Any = span.upper
    if lower is not None and (value <= lower if span.lower_exclusive else value < lower):
        return False
    return upper is None or (value <= upper if span.upper_inclusive else value < upper)


def temporal_holds(test: TemporalTest, value: datetime | date | None) -> bool:
    """In-memory twin of the SQL built by `condition_sql` for dates."""
    if value is None:
        return test.empty
    inside = any(span_holds(s, value) for s in test.spans)
    return not inside if test.negate else inside


# -- SQL --------------------------------------------------------------------------------


def condition_sql(
    operand: ColumnElement[Any],
    shape: Shape,
    operator: str,
    values: Sequence[Value],
    moment: Moment,
) -> ColumnElement[bool]:
    """``operand <operator> values`` with kampanj semantics; never NULL."""
    if operator == ANY_OPERATOR:
        return true()
    match shape:
        case Shape.TEXT:
            return _text_sql(operand, operator, values)
        case Shape.NUMBER:
            return _number_sql(operand, operator, values)
        case Shape.BOOLEAN:
            return _boolean_sql(operand, operator)
        case Shape.INSTANT | Shape.DAY | Shape.DAY_TEXT:
            return _temporal_sql(operand, shape, operator, values, moment)
    raise ValueError(shape)  # pragma: no cover


def _present(operand: ColumnElement[Any], body: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(operand.is_not(None), body)


def _or_empty(operand: ColumnElement[Any], body: ColumnElement[bool]) -> ColumnElement[bool]:
    return or_(operand.is_(None), body)


def _text_sql(
    operand: ColumnElement[Any], operator: str, values: Sequence[Value]
) -> ColumnElement[bool]:
    folded = fold_sql(operand)  # SL-12: the same folding on every backend
    wanted = [fold_case(text_value(v)) for v in values]
    if operator == "is empty":
        return or_(operand.is_(None), operand == literal(""))
    if operator == "is not empty":
        return and_(operand.is_not(None), operand != literal(""))
    if operator in ("is", "is not"):
        positive: ColumnElement[bool] = folded.in_(wanted)
    elif operator in ("starts with", "not starts with"):
        positive = or_(*(starts_with_sql(folded, v) for v in wanted))
    elif operator in ("contains", "not contains"):
        positive = or_(*(contains_sql(folded, v) for v in wanted))
    else:
        raise ValueError(f"operator {operator!r} does not apply to text")
    if operator in NEGATIVE_TEXT_OPERATORS:
        return _or_empty(operand, not_(positive))  # SL-12: empty matches negatives
    return _present(operand, positive)


def _number_sql(
    operand: ColumnElement[Any], operator: str, values: Sequence[Value]
) -> ColumnElement[bool]:
    numbers = [number_value(v) for v in values]
    zeroed = func.coalesce(operand, 0)  # SL-13: null counts as 0 for is / is not
    match operator:
        case "is":
            return zeroed.in_(numbers)
        case "is not":
            return zeroed.not_in(numbers)
        case "between":
            low, high = sorted(numbers[:2])
            return _present(operand, and_(operand >= low, operand <= high))
        case "greater than":
            return _present(operand, operand > numbers[0])
        case "less than":
            return _present(operand, operand < numbers[0])
        case "at least":
            return _present(operand, operand >= numbers[0])
        case "at most":
            return _present(operand, operand <= numbers[0])
        case "is empty":
            return operand.is_(None)
        case "is not empty":
            return operand.is_not(None)
    raise ValueError(f"operator {operator!r} does not apply to numbers")


def _boolean_sql(operand: ColumnElement[Any], operator: str) -> ColumnElement[bool]:
    # SL-18: IS TRUE / IS FALSE leave null out of both.
    if operator == "is true":
        return operand.is_(true())
    if operator == "is false":
        return operand.is_(false())
    raise ValueError(f"operator {operator!r} does not apply to booleans")


def _temporal_sql(
    operand: ColumnElement[Any],
    shape: Shape,
    operator: str,
    values: Sequence[Value],
    moment: Moment,
) -> ColumnElement[bool]:
    test = temporal_test(operator, values, moment, by_day=shape is not Shape.INSTANT)
    subject = func.substr(operand, 1, 10) if shape is Shape.DAY_TEXT else operand

    def bound(value: datetime | date) -> Any:
        return value.isoformat() if shape is Shape.DAY_TEXT else value

    parts: list[ColumnElement[bool]] = []
    for span in test.spans:
        terms: list[ColumnElement[bool]] = []
        if span.lower is not None:
            lower = bound(span.lower)
            terms.append(subject > lower if span.lower_exclusive else subject >= lower)
        if span.upper is not None:
            upper = bound(span.upper)
            terms.append(subject <= upper if span.upper_inclusive else subject < upper)
        parts.append(and_(true(), *terms))
    inside: ColumnElement[bool] = or_(false(), *parts)
    body = not_(inside) if test.negate else inside
    return _or_empty(operand, body) if test.empty else _present(operand, body)
