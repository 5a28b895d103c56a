"""Triggers compiled to in-memory matchers (SL-20, SL-21).

A trigger matches an activity iff the activity is of the trigger's type, its primary
value satisfies ``primary`` (when given) and each constraint holds for the attribute of
that name, an absent attribute counting as empty. Wiring matchers to live events is
the engine's job (CMP-14); here they are defined, checked and compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kampanj.model.activities import Activity
from kampanj.model.smartlists import Condition, Rule, SmartListRules, Value
from kampanj.smartlist.catalogue import ANY_OPERATOR, Catalogue, CatalogueEntry
from kampanj.smartlist.conditions import (
    NEGATIVE_TEXT_OPERATORS,
    Moment,
    Shape,
    number_value,
    shape_of,
    temporal_holds,
    temporal_test,
    text_value,
)
from kampanj.smartlist.context import InvalidSmartList, checked_operator
from kampanj.smartlist.folding import fold_case

ActivityTest = Callable[[Activity], bool]


@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerMatcher:
    """One compiled trigger."""

    name: str
    """Canonical trigger name."""
    activity_type_id: int
    """Only activities of this type can match."""
    tests: tuple[ActivityTest, ...]
    """Primary and constraint checks, all required."""

    def matches(self, activity: Activity) -> bool:
        """Whether ``activity`` fires this trigger (SL-20)."""
        return activity.activity_type_id == self.activity_type_id and all(
            test(activity) for test in self.tests
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerSet:
    """A smart list's triggers, OR-ed whatever the filter logic says (SL-2)."""

    matchers: tuple[TriggerMatcher, ...]
    """Each trigger in order."""

    @property
    def activity_type_ids(self) -> frozenset[int]:
        """Types worth offering (the engine indexes campaigns by these)."""
        return frozenset(m.activity_type_id for m in self.matchers)

    def matches(self, activity: Activity) -> bool:
        return any(m.matches(activity) for m in self.matchers)

    def matching(self, activity: Activity) -> tuple[str, ...]:
        """Names of the triggers ``activity`` fires."""
        return tuple(m.name for m in self.matchers if m.matches(activity))


NO_TRIGGERS = TriggerSet(matchers=())
"""The triggers of a stand-alone or invalid smart list."""


def compile_triggers(rules: SmartListRules, catalogue: Catalogue, moment: Moment) -> TriggerSet:
    """Every trigger of ``rules``; raises `InvalidSmartList` naming the first bad one."""
    return TriggerSet(
        matchers=tuple(compile_trigger(rule, catalogue, moment) for rule in rules.triggers)
    )


def compile_trigger(rule: Rule, catalogue: Catalogue, moment: Moment) -> TriggerMatcher:
    """One trigger as a matcher (SL-20, SL-21, SL-26)."""
    entry = catalogue.trigger(rule.name) if rule.name else None
    if entry is None or entry.activity_type is None:
        if rule.name and catalogue.filter(rule.name) is not None:
            raise InvalidSmartList(f"{rule.name!r} is a filter, not a trigger (SL-26)")
        raise InvalidSmartList(f"unknown trigger {rule.name!r} (SL-26)")
    if rule.operator:
        raise InvalidSmartList(f"trigger {entry.name!r} takes conditions on its attributes")
    tests: list[ActivityTest] = []
    if rule.primary is not None:
        tests.append(_primary_test(rule.primary, entry, moment))
    for condition in rule.constraints:
        spec = entry.constraint(condition.name)
        if spec is None:
            raise InvalidSmartList(f"{entry.name!r} has no constraint {condition.name!r} (SL-21)")
        if spec.filter_only:
            raise InvalidSmartList(f"{spec.name!r} applies to filters only (SL-21)")
        operator = checked_operator(
            f"{entry.name!r} {spec.name!r}", spec, condition.operator, condition.values
        )
        attribute = entry.activity_type.attribute(spec.name)
        assert attribute is not None
        shape = shape_of(attribute.data_type, in_json=True)
        tests.append(_attribute_test(attribute.name, shape, operator, condition.values, moment))
    return TriggerMatcher(
        name=entry.name, activity_type_id=entry.activity_type.id, tests=tuple(tests)
    )


def _primary_test(condition: Condition, entry: CatalogueEntry, moment: Moment) -> ActivityTest:
    spec = entry.primary
    activity_type = entry.activity_type
    if spec is None or activity_type is None or activity_type.primary is None:
        raise InvalidSmartList(f"{entry.name!r} has no primary attribute; use its constraints")
    operator = checked_operator(
        f"{entry.name!r} {spec.name!r}", spec, condition.operator, condition.values
    )
    shape = shape_of(activity_type.primary.data_type, in_json=True)
    values = condition.values

    def test(activity: Activity) -> bool:
        return value_holds(activity.primary_attribute_value, shape, operator, values, moment)

    return test


def _attribute_test(
    name: str, shape: Shape, operator: str, values: Sequence[Value], moment: Moment
) -> ActivityTest:
    def test(activity: Activity) -> bool:
        return value_holds(activity.attributes.get(name), shape, operator, values, moment)

    return test


def value_holds(
    value: Any, shape: Shape, operator: str, values: Sequence[Value], moment: Moment
) -> bool:
    """In-memory twin of `conditions.condition_sql` for one value (SL-11..SL-18)."""
    if operator == ANY_OPERATOR:
        return True
    match shape:
        case Shape.TEXT:
            return _text_holds(value, operator, values)
        case Shape.NUMBER:
            return _number_holds(value, operator, values)
        case Shape.BOOLEAN:
            flag = _boolean(value)
            return flag is (operator == "is true") if flag is not None else False
        case _:
            test = temporal_test(operator, values, moment, by_day=shape is not Shape.INSTANT)
            return temporal_holds(test, _temporal(value, shape))


def _text_holds(value: Any, operator: str, values: Sequence[Value]) -> bool:
    text = None if value is None else text_value(value) if not isinstance(value, str) else value
    if operator == "is empty":
        return not text
    if operator == "is not empty":
        return bool(text)
    if not text:
        return operator in NEGATIVE_TEXT_OPERATORS  # SL-12
    folded = fold_case(text)
    wanted = [fold_case(text_value(v)) for v in values]
    if operator in ("is", "is not"):
        hit = folded in wanted
    elif operator in ("starts with", "not starts with"):
        hit = any(folded.startswith(w) for w in wanted)
    else:
        hit = any(w in folded for w in wanted)
    return not hit if operator in NEGATIVE_TEXT_OPERATORS else hit


def _number_holds(value: Any, operator: str, values: Sequence[Value]) -> bool:
    number = None if value is None or value == "" else float(value)
    wanted = [number_value(v) for v in values]
    if operator in ("is", "is not"):
        hit = (number or 0) in wanted  # SL-13: empty counts as 0
        return hit if operator == "is" else not hit
    if operator == "is empty":
        return number is None
    if operator == "is not empty":
        return number is not None
    if number is None:
        return False
    match operator:
        case "between":
            low, high = sorted(wanted[:2])
            return low <= number <= high
        case "greater than":
            return number > wanted[0]
        case "less than":
            return number < wanted[0]
        case "at least":
            return number >= wanted[0]
        case "at most":
            return number <= wanted[0]
    raise ValueError(operator)


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().casefold()
    return {"true": True, "1": True, "false": False, "0": False}.get(text)


def _temporal(value: Any, shape: Shape) -> datetime | date | None:
    if value is None or value == "":
        return None
    if shape is Shape.INSTANT:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    if isinstance(value, datetime | date):
        return value if not isinstance(value, datetime) else value.date()
    return date.fromisoformat(str(value)[:10])
