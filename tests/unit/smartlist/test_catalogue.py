"""The filter and trigger catalogue (SL-12..SL-24, ACT-3)."""

from __future__ import annotations

import pytest

from kampanj.model.activities import ActivityTypeDef, ActivityTypeRegistry, AttributeDef
from kampanj.model.fields import STANDARD_FIELDS, FieldDef, FieldRegistry, FieldType
from kampanj.smartlist.catalogue import (
    BOOLEAN_OPERATORS,
    DATE_OPERATORS,
    NUMBER_OPERATORS,
    TEXT_OPERATORS,
    Catalogue,
    RuleKind,
    parse_relative,
    value_problem,
)
from kampanj.smartlist.logic import And, FilterRef, Not, Or, check_logic, parse_logic_expression


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    custom = ActivityTypeDef(
        id=100001,
        name="Attend Event",
        primary=AttributeDef(name="Event Name"),
        attributes=(AttributeDef(name="Minutes", data_type=FieldType.INTEGER),),
        trigger_name="Attends Event",
        filter_name="Attended Event",
        is_custom=True,
    )
    score = FieldDef(
        name="behaviorScore",
        display_name="Behavior Score",
        data_type=FieldType.SCORE,
        column="c_behavior_score",
        is_custom=True,
    )
    return Catalogue(
        FieldRegistry((*STANDARD_FIELDS, score)),
        ActivityTypeRegistry.standard().with_types([custom]),
    )


@pytest.mark.parametrize(
    ("name", "operators"),
    [
        ("Email Address", TEXT_OPERATORS),
        ("leadScore", NUMBER_OPERATORS),
        ("Behavior Score", NUMBER_OPERATORS),
        ("Created At", DATE_OPERATORS),
        ("unsubscribed", BOOLEAN_OPERATORS),
    ],
)
def test_attribute_filters_have_the_operators_of_their_type(
    catalogue: Catalogue, name: str, operators: tuple[str, ...]
) -> None:
    """SL-12..SL-19: every field, by display or REST name, with its type's operators."""
    entry = catalogue.filter(name)
    assert entry is not None and entry.kind is RuleKind.ATTRIBUTE
    assert entry.subject is not None and entry.subject.operators == operators


def test_activity_filters_triggers_and_inactivity(catalogue: Catalogue) -> None:
    """SL-20..SL-23, SL-26, ACT-3: per activity type, custom ones included."""
    visited = catalogue.filter("visited web page")
    assert visited is not None and visited.kind is RuleKind.ACTIVITY
    assert visited.primary is not None and visited.primary.accepts("Web Page")
    assert visited.constraint("Date of Activity") is not None
    assert visited.constraint("min. number of times") is not None
    inactivity = catalogue.filter("Not Visited Web Page")
    assert inactivity is not None and inactivity.kind is RuleKind.INACTIVITY
    trigger = catalogue.trigger("Attends Event")
    assert trigger is not None and trigger.constraint("Minutes") is not None
    date_spec = trigger.constraint("Date of Activity")
    assert date_spec is not None and date_spec.filter_only
    assert catalogue.filter("Attended Event") is not None
    assert catalogue.trigger("Campaign was Executed") is None  # EXE-22: no trigger


def test_constraint_aliases(catalogue: Catalogue) -> None:
    """SL-21: Previous Value, New Score and Change."""
    entry = catalogue.trigger("Score is Changed")
    assert entry is not None
    assert [entry.constraint(a).name for a in ("Previous Value", "New Score", "Change")] == [  # type: ignore[union-attr]
        "Old Value",
        "New Value",
        "Change Value",
    ]


def test_membership_filters(catalogue: Catalogue) -> None:
    """SL-24."""
    program = catalogue.filter("Member of Program")
    assert program is not None and program.kind is RuleKind.MEMBERSHIP
    assert [c.name for c in program.constraints] == [
        "Program Status",
        "Success",
        "Acquired By",
        "Membership Date",
    ]
    member_list = catalogue.filter("member of list")
    assert member_list is not None and member_list.subject is not None
    assert member_list.subject.operators == ("in", "not in")


def test_value_checks(catalogue: Catalogue) -> None:
    """SL-13..SL-15: numbers, relative dates and arity."""
    score = catalogue.filter("Lead Score")
    assert score is not None and score.subject is not None
    assert value_problem(score.subject, "at least", [10]) is None
    assert value_problem(score.subject, "at least", ["ten"]) is not None
    assert value_problem(score.subject, "between", [1]) is not None
    created = catalogue.filter("Created At")
    assert created is not None and created.subject is not None
    assert value_problem(created.subject, "in past", ["82 days"]) is None
    assert value_problem(created.subject, "in past", ["4 hrs"]) is not None
    assert value_problem(created.subject, "in time frame", ["last quarter"]) is None
    assert parse_relative("1 week") == (1, "week")


def test_logic_grammar() -> None:
    """SL-4: not binds tightest; parentheses group."""
    assert parse_logic_expression("1 and (2 or not 3)") == And(
        (FilterRef(1), Or((FilterRef(2), Not(FilterRef(3)))))
    )
    assert check_logic("1 AND 2 and 1", 2) == []
    assert check_logic("1 and 2 or 3", 3) != []
    assert check_logic("", 1) != []
    assert check_logic("1 and (2", 2) != []
