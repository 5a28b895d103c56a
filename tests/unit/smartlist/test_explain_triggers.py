"""Trigger explanations: each condition compared, the verdict the matcher's (EXPL-2, SL-20)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from kampanj.model.activities import Activity, StandardActivity
from kampanj.model.smartlists import Condition, Rule
from kampanj.smartlist.catalogue import Catalogue
from kampanj.smartlist.conditions import Moment
from kampanj.smartlist.explain_triggers import check_trigger, trigger_type
from kampanj.smartlist.triggers import compile_trigger

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = Moment(now=NOW, zone=ZoneInfo("UTC"))
CATALOGUE = Catalogue.standard()
CHANGE = int(StandardActivity.CHANGE_DATA_VALUE)

RULE = Rule(
    name="Data Value Changes",
    primary=Condition(name="primary", operator="is", values=("Country",)),
    constraints=(
        Condition(name="Previous Value", operator="is empty"),  # SL-21 alias of Old Value
        Condition(name="New Value", operator="starts with", values=("swe", "nor")),
    ),
)


def _change(old: str | None, new: str, attribute: str = "Country") -> Activity:
    attributes = {"New Value": new} | ({"Old Value": old} if old is not None else {})
    return Activity(
        id=7,
        person_id=1,
        activity_type_id=CHANGE,
        activity_date=NOW,
        primary_attribute_value=attribute,
        attributes=attributes,
    )


def test_each_condition_is_compared_with_the_canonical_attribute() -> None:
    """SL-20, SL-21: aliases resolve to the attribute read; absent counts as empty."""
    check = check_trigger(1, RULE, CATALOGUE, MOMENT, _change(None, "Sweden"))
    assert check.matched and check.type_matches and check.problem is None
    assert [(c.name, c.actual, c.passed) for c in check.conditions] == [
        ("Attribute", "Country", True),
        ("Old Value", None, True),
        ("New Value", "Sweden", True),
    ]


def test_one_failing_condition_fails_the_trigger_as_the_matcher_does() -> None:
    """SL-20: every condition must hold; the verdict is the compiled matcher's."""
    matcher = compile_trigger(RULE, CATALOGUE, MOMENT)
    for activity in (
        _change("Chile", "Sweden"),
        _change(None, "Chile"),
        _change(None, "Sweden", attribute="City"),
    ):
        check = check_trigger(1, RULE, CATALOGUE, MOMENT, activity)
        assert not check.matched and check.matched is matcher.matches(activity)
        assert [c.passed for c in check.conditions].count(False) == 1


def test_no_activity_other_type_and_invalid_trigger() -> None:
    """EXPL-4 'no activity'; an activity of another type; SL-21 filter-only constraint."""
    assert trigger_type(RULE, CATALOGUE) == CHANGE
    none = check_trigger(1, RULE, CATALOGUE, MOMENT, None)
    assert not none.matched and none.activity is None and none.activity_type == "Change Data Value"
    visit = Activity(id=8, person_id=1, activity_type_id=1, activity_date=NOW)
    other = check_trigger(1, RULE, CATALOGUE, MOMENT, visit)
    assert not other.matched and not other.type_matches and other.conditions == ()
    bad = Rule(
        name="Data Value Changes",
        constraints=(Condition(name="Min. Number of Times", operator="at least", values=(2,)),),
    )
    invalid = check_trigger(2, bad, CATALOGUE, MOMENT, _change(None, "Sweden"))
    assert not invalid.matched and invalid.problem and "filters only" in invalid.problem
    unknown = Rule(name="Visits Moon")
    assert trigger_type(unknown, CATALOGUE) is None
    assert check_trigger(3, unknown, CATALOGUE, MOMENT, None).problem
