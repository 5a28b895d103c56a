"""YAML filter and trigger forms → ``Rule`` (SL-1), leniently.

Forms (see docs/definitions.md):

- ``Email Address: is not empty`` — the string form ``OPERATOR [VALUE]``; the longest
  operator valid for the field type wins, so ``is not empty`` is never read as ``is``
  with value ``not empty``;
- ``Lead Score: {at least: 50}`` / ``Country: {is: [Sweden, Norway]}`` — one operator key;
- ``Unsubscribed: false`` — booleans; a bare number means ``is``;
- ``Visited Web Page: {Web Page: {contains: pricing}, Date of Activity: in past 7 days,
  Min. Number of Times: 3}`` — activity rules: conditions keyed by primary or constraint name;
  a bare string or operator mapping is the primary condition;
- ``Member of Program: {is: Webinar, Program Status: is Attended}`` — membership.

Conversion never rejects: whatever cannot be understood is kept as written (unknown
names, operators) or as a nameless rule, and the validator reports it with the
catalogue at hand. That keeps filter numbering intact for the logic expression.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from kampanj.model.smartlists import Condition, FilterMatchType, Rule, Value
from kampanj.smartlist.catalogue import (
    ALL_OPERATORS,
    ARITY,
    MIN_NUMBER_OF_TIMES,
    Arity,
    Catalogue,
    CatalogueEntry,
    ConditionSpec,
    RuleKind,
    ValueKind,
    match_key,
)

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def split_operator(text: str, operators: Sequence[str]) -> tuple[str, str] | None:
    """``"at least 50"`` → ("at least", "50"): the longest operator prefixing ``text``."""
    stripped = text.strip()
    folded = stripped.casefold()
    for operator in sorted(operators, key=len, reverse=True):
        if folded == operator:
            return operator, ""
        if folded.startswith(operator) and folded[len(operator)].isspace():
            return operator, stripped[len(operator) :].strip()
    return None


def _number(text: str, kind: ValueKind) -> Value:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return text
    if number == number.to_integral_value() and "." not in text and "e" not in text.lower():
        return int(number)
    return text if kind is ValueKind.INTEGER else float(number)


def _values(raw: Any, operator: str, spec: ConditionSpec | None) -> tuple[Value, ...]:
    if raw is None:
        return ()
    items = list(raw) if isinstance(raw, list) else [raw]
    if (
        ARITY.get(operator) is Arity.PAIR
        and len(items) == 1
        and isinstance(items[0], str)
        and _AND.search(items[0])
    ):
        items = [part.strip() for part in _AND.split(items[0], maxsplit=1)]
    values: list[Value] = []
    for item in items:
        if isinstance(item, dict | list):
            values.append(str(item))
        elif (
            isinstance(item, str)
            and spec is not None
            and spec.value_kind
            in (
                ValueKind.NUMBER,
                ValueKind.INTEGER,
            )
        ):
            values.append(_number(item, spec.value_kind))
        elif isinstance(item, str | int | float | bool):
            values.append(item)
        else:
            values.append(str(item))
    return tuple(values)


def parse_condition(raw: Any, spec: ConditionSpec | None) -> tuple[str, tuple[Value, ...]]:
    """Operator (canonical when known) and values of one condition as written."""
    operators = spec.operators if spec else ALL_OPERATORS
    if isinstance(raw, bool):
        if spec is None or spec.value_kind is ValueKind.BOOLEAN:
            return ("is true" if raw else "is false"), ()
        return "is", (raw,)
    if isinstance(raw, int | float):
        if spec is not None and spec.name == MIN_NUMBER_OF_TIMES:
            return "at least", (raw,)
        return "is", (raw,)
    if isinstance(raw, str):
        split = split_operator(raw, operators)
        if split is None:
            # Kept as written; the validator names the operators that would fit.
            return raw.strip(), ()
        operator, rest = split
        return operator, _values(rest, operator, spec) if rest else ()
    if isinstance(raw, dict) and len(raw) == 1:
        ((key, value),) = raw.items()
        operator = str(key)
        known = split_operator(operator, operators)
        if known is not None and not known[1]:
            operator = known[0]
        return operator, _values(value, operator, spec)
    if isinstance(raw, dict):
        return " / ".join(str(k) for k in raw) or "", ()
    return "", ()


def _constraints(
    raw: dict[Any, Any], entry: CatalogueEntry | None
) -> tuple[Condition | None, tuple[Condition, ...], str | None, tuple[Value, ...]]:
    """Split an activity or membership mapping into primary, constraints and own operator."""
    primary: Condition | None = None
    constraints: list[Condition] = []
    own_operator: str | None = None
    own_values: tuple[Value, ...] = ()
    for key, value in raw.items():
        name = str(key).strip()
        if entry is not None and entry.subject is not None:
            own = entry.subject.operator(name)
            if own is not None:
                own_operator, own_values = own, _values(value, own, entry.subject)
                continue
        if entry is not None and entry.primary is not None and entry.primary.accepts(name):
            operator, values = parse_condition(value, entry.primary)
            primary = Condition(name=entry.primary.name, operator=operator, values=values)
            continue
        spec = entry.constraint(name) if entry is not None else None
        operator, values = parse_condition(value, spec)
        constraints.append(
            Condition(name=spec.name if spec else name, operator=operator, values=values)
        )
    return primary, tuple(constraints), own_operator, own_values


def parse_rule(raw: Any, catalogue: Catalogue, *, trigger: bool) -> Rule:
    """One filter (or trigger) as written → a Rule; a shape it cannot read → nameless."""
    if isinstance(raw, str):
        name, body = raw.strip(), None
    elif isinstance(raw, dict) and len(raw) == 1:
        ((key, body),) = raw.items()
        name = str(key).strip()
    else:
        return Rule(name="")
    entry = catalogue.trigger(name) if trigger else catalogue.filter(name)
    canonical = entry.name if entry is not None else name
    if entry is not None and entry.is_activity:
        if body is None:
            return Rule(name=canonical)
        if isinstance(body, dict) and not (
            len(body) == 1
            and entry.primary is not None
            and split_operator(str(next(iter(body))), entry.primary.operators)
        ):
            primary, constraints, _, _ = _constraints(body, entry)
            return Rule(name=canonical, primary=primary, constraints=constraints)
        spec = entry.primary
        operator, values = parse_condition(body, spec)
        primary_name = spec.name if spec else "primary"
        return Rule(
            name=canonical,
            primary=Condition(name=primary_name, operator=operator, values=values),
        )
    if entry is not None and entry.kind is RuleKind.MEMBERSHIP and isinstance(body, dict):
        _, constraints, own, own_values = _constraints(body, entry)
        return Rule(name=canonical, operator=own or "", values=own_values, constraints=constraints)
    operator, values = parse_condition(body, entry.subject if entry else None)
    return Rule(name=canonical, operator=operator, values=values)


def parse_logic(raw: str | None) -> tuple[FilterMatchType, str | None]:
    """``all`` / ``any`` / an advanced expression (SL-3, SL-4)."""
    if raw is None:
        return FilterMatchType.ALL, None
    text = raw.strip()
    folded = match_key(text)
    if folded in ("all", "and"):
        return FilterMatchType.ALL, None
    if folded in ("any", "or"):
        return FilterMatchType.ANY, None
    return FilterMatchType.ADVANCED, text
