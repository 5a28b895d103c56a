"""Why a campaign trigger does or does not fire on one activity (EXPL-2, EXPL-4).

The verdict is the compiled matcher's own (`triggers.compile_trigger`), so it is the one
the engine reaches (EXPL-5); each of the matcher's tests is also run on its own to say
which primary or constraint value failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kampanj.model.activities import Activity
from kampanj.model.smartlists import Condition, Rule, Value
from kampanj.smartlist.catalogue import Catalogue, CatalogueEntry
from kampanj.smartlist.conditions import Moment
from kampanj.smartlist.context import InvalidSmartList
from kampanj.smartlist.triggers import compile_trigger


@dataclass(frozen=True, kw_only=True, slots=True)
class ConditionCheck:
    """One primary or constraint condition compared with the activity's value."""

    name: str
    """Attribute compared (canonical name; the primary attribute for ``primary``)."""
    operator: str
    """Operator as written."""
    expected: tuple[Value, ...]
    """Values the condition expects."""
    actual: Any
    """The activity's value (None when absent: SL-20 counts it as empty)."""
    passed: bool
    """Whether the condition holds."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "operator": self.operator,
            "expected": list(self.expected),
            "actual": self.actual,
            "passed": self.passed,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerCheck:
    """One trigger checked against one activity, or against none."""

    number: int
    """1-based trigger number."""
    name: str
    """Trigger name as written."""
    activity_type: str | None
    """Name of the activity type the trigger listens to (None for an unknown trigger)."""
    activity_type_id: int | None
    """Its id."""
    activity: Activity | None
    """The activity checked; None when the person has none of that type (EXPL-4)."""
    matched: bool
    """Whether the trigger fires on ``activity``."""
    conditions: tuple[ConditionCheck, ...] = ()
    """Primary and constraint checks in definition order (empty without an activity)."""
    problem: str | None = None
    """Why the trigger is invalid (SL-9, SL-21, SL-26); it then matches nothing."""

    @property
    def type_matches(self) -> bool:
        """Whether the activity is of the trigger's type at all."""
        return self.activity is not None and self.activity.activity_type_id == self.activity_type_id

    def to_json(self) -> dict[str, Any]:
        activity = self.activity
        return {
            "number": self.number,
            "name": self.name,
            "activityType": self.activity_type,
            "activityId": activity.id if activity else None,
            "activityDate": activity.activity_date if activity else None,
            "typeMatches": self.type_matches,
            "matched": self.matched,
            "conditions": [c.to_json() for c in self.conditions],
            "problem": self.problem,
        }


def trigger_type(rule: Rule, catalogue: Catalogue) -> int | None:
    """Id of the activity type a trigger listens to; None for an unknown trigger."""
    entry = catalogue.trigger(rule.name) if rule.name else None
    if entry is None or entry.activity_type is None:
        return None
    return entry.activity_type.id


def check_trigger(
    number: int, rule: Rule, catalogue: Catalogue, moment: Moment, activity: Activity | None
) -> TriggerCheck:
    """Check trigger ``number`` (``rule``) against ``activity`` (SL-20)."""
    entry = catalogue.trigger(rule.name) if rule.name else None
    type_name = entry.activity_type.name if entry and entry.activity_type else None
    type_id = entry.activity_type.id if entry and entry.activity_type else None
    try:
        matcher = compile_trigger(rule, catalogue, moment)
    except InvalidSmartList as error:
        return TriggerCheck(
            number=number,
            name=rule.name,
            activity_type=type_name,
            activity_type_id=type_id,
            activity=activity,
            matched=False,
            problem=str(error),
        )
    assert entry is not None
    if activity is None or activity.activity_type_id != matcher.activity_type_id:
        return TriggerCheck(
            number=number,
            name=rule.name,
            activity_type=type_name,
            activity_type_id=type_id,
            activity=activity,
            matched=False,
        )
    written = [rule.primary] if rule.primary is not None else []
    written += rule.constraints
    # compile_trigger builds one test per written condition, primary first, in order.
    conditions: list[ConditionCheck] = []
    for index, (condition, test) in enumerate(zip(written, matcher.tests, strict=True)):
        is_primary = index == 0 and rule.primary is not None
        name = _attribute_name(condition, entry, is_primary=is_primary)
        actual = activity.primary_attribute_value if is_primary else activity.attributes.get(name)
        conditions.append(
            ConditionCheck(
                name=name,
                operator=condition.operator,
                expected=condition.values,
                actual=actual,
                passed=test(activity),
            )
        )
    return TriggerCheck(
        number=number,
        name=rule.name,
        activity_type=type_name,
        activity_type_id=type_id,
        activity=activity,
        matched=matcher.matches(activity),
        conditions=tuple(conditions),
    )


def _attribute_name(condition: Condition, entry: CatalogueEntry, *, is_primary: bool) -> str:
    activity_type = entry.activity_type
    assert activity_type is not None
    if is_primary:
        return activity_type.primary.name if activity_type.primary else condition.name
    spec = entry.constraint(condition.name)
    attribute = activity_type.attribute(spec.name) if spec else None
    return attribute.name if attribute else condition.name
