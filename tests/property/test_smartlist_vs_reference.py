"""The SQL compiler agrees with a per-person reference evaluator (SL-3..SL-24, ACT-8).

Hypothesis draws people, activities, list memberships and a smart list (1–4 filters
combined with All, Any or an Advanced expression with ``not`` and parentheses); the
compiled query must select exactly the people the reference evaluator accepts, on every
configured backend.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smartlist_world import (
    NOW,
    Act,
    Person,
    World,
    prepare,
    reference_filter,
    write,
)
from sqlalchemy.dialects import postgresql, sqlite

from kampanj.model.activities import StandardActivity
from kampanj.model.fields import FieldRegistry
from kampanj.model.smartlists import Condition, FilterMatchType, Rule, SmartListRules
from kampanj.smartlist.catalogue import TIME_FRAMES, Catalogue
from kampanj.smartlist.compiler import compile_rules, count_query, members_query
from kampanj.smartlist.conditions import Moment
from kampanj.smartlist.context import CompileContext, References
from kampanj.smartlist.evaluation import prepare_set_query
from kampanj.smartlist.explain import explain_rules
from kampanj.store.database import Database
from kampanj.store.registry import person_table

EXAMPLES = int(os.environ.get("KAMPANJ_SMARTLIST_EXAMPLES", "60"))

# Non-ASCII letters whose folding SQLite's built-in lower() would miss (SL-12): Å/Ö/É,
# ẞ → ß, Σ → σ in any position, İ → i.
names = st.sampled_from(
    [
        *(None, "", "Ann", "anna", "Bo", "a_b", "50%", "ANNIKA"),
        *("Åsa", "ÅSA", "Örjan", "ÉLODIE", "élan", "STRAẞE", "straße", "ΟΔΟΣ", "İDA"),
    ]
)
text_values = st.sampled_from(
    ["an", "A", "bo", "a_", "%", "ann", "x", "å", "ÅS", "ö", "É", "ß", "ẞ", "σ", "ΟΔΟΣ", "id"]
)
scores = st.sampled_from([None, 0, 5, 10, -3])
score_values = st.sampled_from([0, 5, 10, 7, -3])
days = st.integers(min_value=-400, max_value=60)
relative = st.builds(
    lambda n, unit: f"{n} {unit}",
    st.integers(min_value=1, max_value=12),
    st.sampled_from(["hours", "days", "weeks", "months", "years"]),
)


def day_text(offset: int) -> str:
    return (NOW.date() + timedelta(days=offset)).isoformat()


@st.composite
def date_condition(draw: st.DrawFn, *, allow_empty: bool) -> tuple[str, tuple[object, ...]]:
    ops = ["is", "is not", "between", "after", "before", "on or after", "on or before"]
    ops += ["in past", "in past before", "in future", "in future after", "in time frame"]
    if allow_empty:
        ops += ["is empty", "is not empty"]
    op = draw(st.sampled_from(ops))
    if op in ("is empty", "is not empty"):
        return op, ()
    if op == "between":
        return op, (day_text(draw(days)), day_text(draw(days)))
    if op.startswith("in past") or op.startswith("in future"):
        return op, (draw(relative),)
    if op == "in time frame":
        return op, (draw(st.sampled_from(TIME_FRAMES)),)
    if op in ("is", "is not"):
        return op, tuple(day_text(d) for d in draw(st.lists(days, min_size=1, max_size=2)))
    return op, (day_text(draw(days)),)


@st.composite
def text_condition(draw: st.DrawFn) -> tuple[str, tuple[object, ...]]:
    op = draw(
        st.sampled_from(
            [
                *("is", "is not", "starts with", "not starts with", "contains"),
                *("not contains", "is empty", "is not empty"),
            ]
        )
    )
    if "empty" in op:
        return op, ()
    return op, tuple(draw(st.lists(text_values, min_size=1, max_size=2)))


@st.composite
def a_filter(draw: st.DrawFn) -> Rule:
    kind = draw(
        st.sampled_from(
            ["text", "number", "boolean", "created", "birthday", "list", "visit", "open"]
        )
    )
    if kind == "text":
        op, values = draw(text_condition())
        return Rule(name="First Name", operator=op, values=values)
    if kind == "number":
        op = draw(
            st.sampled_from(
                [
                    *("is", "is not", "between", "greater than", "less than", "at least"),
                    *("at most", "is empty", "is not empty"),
                ]
            )
        )
        count = {"is": 2, "is not": 2, "between": 2}.get(op, 0 if "empty" in op else 1)
        if op in ("is", "is not"):
            count = draw(st.integers(min_value=1, max_value=2))
        return Rule(
            name="Lead Score", operator=op, values=tuple(draw(score_values) for _ in range(count))
        )
    if kind == "boolean":
        return Rule(name="Unsubscribed", operator=draw(st.sampled_from(["is true", "is false"])))
    if kind in ("created", "birthday"):
        op, values = draw(date_condition(allow_empty=kind == "birthday"))
        return Rule(
            name="Created At" if kind == "created" else "Birthday", operator=op, values=values
        )
    if kind == "list":
        return Rule(
            name="Member of List", operator=draw(st.sampled_from(["in", "not in"])), values=("vip",)
        )
    constraints: list[Condition] = []
    if draw(st.booleans()):
        op, values = draw(date_condition(allow_empty=False))
        constraints.append(Condition(name="Date of Activity", operator=op, values=values))
    negate = draw(st.booleans())
    if not negate and draw(st.booleans()):
        constraints.append(
            Condition(
                name="Min. Number of Times",
                operator="at least",
                values=(draw(st.integers(min_value=1, max_value=3)),),
            )
        )
    if kind == "visit":
        primary = None
        if draw(st.booleans()):
            op, values = draw(text_condition())
            primary = Condition(name="Web Page", operator=op, values=values)
        if draw(st.booleans()):
            op, values = draw(text_condition())
            constraints.append(Condition(name="Browser", operator=op, values=values))
        name = "Visited Web Page"
    else:
        primary = None
        if draw(st.booleans()):
            constraints.append(
                Condition(
                    name="Is Mobile Device", operator=draw(st.sampled_from(["is true", "is false"]))
                )
            )
        if draw(st.booleans()):
            constraints.append(
                Condition(name="Campaign Run ID", operator="at least", values=(draw(score_values),))
            )
        name = "Opened Email"
    return Rule(
        name=("Not " if negate else "") + name, primary=primary, constraints=tuple(constraints)
    )


@st.composite
def logic_text(draw: st.DrawFn, count: int) -> str:
    parts = [str(n) for n in draw(st.permutations(range(1, count + 1)))]
    parts = [f"not {p}" if draw(st.booleans()) else p for p in parts]
    while len(parts) > 1:
        size = draw(st.integers(min_value=2, max_value=len(parts)))
        joined = f" {draw(st.sampled_from(['and', 'or']))} ".join(parts[:size])
        node = f"({joined})" if len(parts) > size else joined
        if len(parts) > size and draw(st.booleans()):
            node = f"not {node}"
        parts = [node, *parts[size:]]
    return parts[0]


@st.composite
def smart_lists(draw: st.DrawFn) -> SmartListRules:
    filters = tuple(draw(st.lists(a_filter(), min_size=0, max_size=4)))
    match = draw(st.sampled_from(list(FilterMatchType)))
    if match is FilterMatchType.ADVANCED and filters:
        return SmartListRules(
            filters=filters, match_type=match, advanced_logic=draw(logic_text(len(filters)))
        )
    if match is FilterMatchType.ADVANCED:
        match = FilterMatchType.ALL
    return SmartListRules(filters=filters, match_type=match)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(min_value=1, max_value=8))
    people = [
        Person(
            id=i,
            first_name=draw(names),
            lead_score=draw(scores),
            unsubscribed=draw(st.sampled_from([None, True, False])),
            created_at=NOW + timedelta(days=draw(days), minutes=draw(st.integers(-720, 720))),
            birthday=draw(st.none() | st.builds(lambda d: NOW.date() + timedelta(days=d), days)),
        )
        for i in range(1, count + 1)
    ]
    activities = []
    for index in range(draw(st.integers(min_value=0, max_value=14))):
        type_id = draw(
            st.sampled_from([StandardActivity.VISIT_WEBPAGE, StandardActivity.OPEN_EMAIL])
        )
        when = NOW - timedelta(days=draw(st.integers(-5, 120)), hours=draw(st.integers(0, 23)))
        attributes: dict[str, object] = {}
        primary = None
        if type_id == StandardActivity.VISIT_WEBPAGE:
            primary = draw(
                st.sampled_from([None, "/pricing", "/Annual", "/bo_x", "/", "/Åre", "/ÉTÉ"])
            )
            browser = draw(st.sampled_from([None, "Annex", "Bolt", "Ängel", "ÖSA"]))
            if browser:
                attributes["Browser"] = browser
        else:
            mobile = draw(st.sampled_from([None, True, False]))
            if mobile is not None:
                attributes["Is Mobile Device"] = mobile
            run = draw(st.sampled_from([None, 0, 5, 10]))
            if run is not None:
                attributes["Campaign Run ID"] = run
        activities.append(
            Act(
                id=index + 1,
                person_id=draw(st.integers(min_value=1, max_value=count)),
                type_id=int(type_id),
                when=when,
                primary=primary,
                attributes=attributes,
            )
        )
    members = set(draw(st.lists(st.integers(min_value=1, max_value=count), max_size=count)))
    return World(people=people, activities=activities, list_members=members)


def reference_members(rules: SmartListRules, world: World) -> list[int]:
    """Who qualifies per SL-3/SL-4, evaluating the logic text with Python's own parser."""
    selected = []
    for person in world.people:
        verdicts = [reference_filter(rule, person, world) for rule in rules.filters]
        if rules.match_type is FilterMatchType.ADVANCED:
            expression = re.sub(
                r"\d+", lambda m: f"V[{int(m.group()) - 1}]", rules.advanced_logic or ""
            )
            passed = bool(eval(expression, {"V": verdicts}))
        elif rules.match_type is FilterMatchType.ANY:
            passed = any(verdicts) if verdicts else True
        else:
            passed = all(verdicts)
        if passed:
            selected.append(person.id)
    return selected


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), many=st.lists(smart_lists(), min_size=1, max_size=6))
def test_compiled_smart_list_selects_what_the_reference_selects(
    database: Database, world: World, many: list[SmartListRules]
) -> None:
    """SL-3..SL-24 and ACT-8: SQL members equal reference members on random data.

    Each example checks several smart lists over one world, and every filter on its own.
    """
    ctx, list_id = _prepared(database)
    singles = [SmartListRules(filters=(f,)) for rules in many for f in rules.filters]
    with database.begin() as connection:
        write(connection, ctx, list_id, world)
        prepare_set_query(connection)  # the settings `count` and `members` run with
        for rules in [*many, *singles]:
            compiled = compile_rules(rules, ctx)
            assert compiled.valid, compiled.problems
            selected = list(connection.execute(members_query(compiled, ctx)).scalars())
            assert selected == reference_members(rules, world), rules
        # EXPL-5: explain reaches the compiler's verdict for every person.
        first = list(connection.execute(members_query(compile_rules(many[0], ctx), ctx)).scalars())
        for person in world.people:
            explained = explain_rules(connection, many[0], ctx, person.id)
            assert explained.result is (person.id in first), explained


_PREPARED: dict[str, tuple[CompileContext, int]] = {}


def _prepared(database: Database) -> tuple[CompileContext, int]:
    """Prepare each fresh database once; Hypothesis reuses it across examples."""
    key = database.url if hasattr(database, "url") else str(id(database))
    if key not in _PREPARED:
        _PREPARED[key] = prepare(database)
    return _PREPARED[key]


# Person sets OR-ed together (SL-4, SL-22, SL-23): 1 = visited a pricing page in the past
# 30 days (persons 1, 2, 5), 2 = opened an email at least twice in the past 60 days (2, 3;
# person 4 opened once), 3 = member of VIP (4, 6), 4 = Lead Score at least 50 (1, 3, 4, 7).
SET_FILTERS = (
    Rule(
        name="Visited Web Page",
        primary=Condition(name="Web Page", operator="contains", values=("pricing",)),
    ),
    Rule(
        name="Opened Email",
        constraints=(
            Condition(name="Date of Activity", operator="in past", values=("60 days",)),
            Condition(name="Min. Number of Times", operator="at least", values=(2,)),
        ),
    ),
    Rule(name="Member of List", operator="in", values=("vip",)),
    Rule(name="Lead Score", operator="at least", values=(50,)),
)


def _set_world() -> World:
    def act(n: int, person: int, type_id: StandardActivity, days: int, page: str | None) -> Act:
        return Act(n, person, int(type_id), NOW - timedelta(days=days), page)

    visit, opened = StandardActivity.VISIT_WEBPAGE, StandardActivity.OPEN_EMAIL
    return World(
        people=[
            Person(i, None, 60 if i in (1, 3, 4, 7) else 10, None, NOW, None) for i in range(1, 9)
        ],
        activities=[
            act(1, 1, visit, 1, "/pricing"),
            act(2, 2, visit, 3, "/Pricing/plans"),
            act(3, 5, visit, 29, "/PRICING"),
            act(4, 8, visit, 60, "/pricing"),  # outside the 30-day window
            act(5, 2, opened, 1, None),
            act(6, 2, opened, 50, None),
            act(7, 3, opened, 2, None),
            act(8, 3, opened, 3, None),
            act(9, 4, opened, 5, None),
            act(10, 6, opened, 61, None),
            act(11, 6, opened, 62, None),  # both outside the 60-day window
        ],
        list_members={4, 6},
    )


@pytest.mark.parametrize(
    ("logic", "expected"),
    [
        ("1 or 2 or 3 or 4", [1, 2, 3, 4, 5, 6, 7]),
        ("not (1 or 2 or 3) and 4", [7]),
        ("(1 and 4) or 2 or not 3", [1, 2, 3, 5, 7, 8]),
        ("4 and (1 or 2) and not 3", [1, 3]),
        ("not (1 or 3) and (2 or 4 or 2)", [3, 7]),
        ("(1 or 2) and (3 or 1) and (4 or not 4)", [1, 2, 5]),
    ],
)
def test_sets_or_ed_together_select_what_the_reference_selects(
    database: Database, logic: str, expected: list[int]
) -> None:
    """OR-ed activity and membership filters become one set (one IN over a UNION on
    PostgreSQL, the separate forms on SQLite); NOT and AND around it apply to the whole."""
    ctx, list_id = _prepared(database)
    world = _set_world()
    rules = SmartListRules(
        filters=SET_FILTERS, match_type=FilterMatchType.ADVANCED, advanced_logic=logic
    )
    assert reference_members(rules, world) == expected
    compiled = compile_rules(rules, ctx)
    assert compiled.valid, compiled.problems
    with database.begin() as connection:
        write(connection, ctx, list_id, world)
        prepare_set_query(connection)
        assert list(connection.execute(members_query(compiled, ctx)).scalars()) == expected
        assert connection.execute(count_query(compiled, ctx)).scalar_one() == len(expected)


def test_or_ed_sets_compile_to_one_union_on_postgresql() -> None:
    """``1 or 2 or 3``: one ``person.id IN (… UNION …)`` on PostgreSQL (the visits' two
    value-index branches, the grouped opens, the list members); SQLite keeps its forms."""
    ctx = CompileContext(
        catalogue=Catalogue.standard(),
        person=person_table(FieldRegistry.standard()),
        moment=Moment(now=NOW, zone=ZoneInfo("UTC")),
        references=References(static_lists={("default", "vip"): 1}),
    )
    rules = SmartListRules(
        filters=SET_FILTERS[:3], match_type=FilterMatchType.ANY, advanced_logic=None
    )
    statement = count_query(compile_rules(rules, ctx), ctx)
    pg = str(statement.compile(dialect=postgresql.dialect()))
    assert pg.count("person.id IN") == 1
    assert pg.count(" UNION ") == 3 and "UNION ALL" not in pg
    lite = str(statement.compile(dialect=sqlite.dialect()))
    assert lite.count("person.id IN") == 2 and "UNION" not in lite
    assert "count(*) AS count_2" in lite  # SQLite's correlated count for Min. Number ≥ 2
