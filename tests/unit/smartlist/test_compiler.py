"""Compiler: invalid smart lists (SL-9, SL-10), triggers (SL-20, SL-21), golden SQL.

Set ``KAMPANJ_REGENERATE_GOLDEN=1`` to rewrite ``golden/*.sql`` after a deliberate change.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from kampanj.model.activities import Activity
from kampanj.model.fields import FieldRegistry
from kampanj.model.smartlists import Condition, FilterMatchType, Rule, SmartList, SmartListRules
from kampanj.smartlist.catalogue import Catalogue
from kampanj.smartlist.compiler import compile_campaign_rules, compile_rules, count_query
from kampanj.smartlist.conditions import Moment
from kampanj.smartlist.context import CompileContext, InvalidSmartList, References
from kampanj.smartlist.triggers import compile_triggers
from kampanj.store.registry import person_table

GOLDEN = Path(__file__).parent / "golden"
MOMENT = Moment(now=datetime(2026, 11, 29, 12, tzinfo=UTC), zone=ZoneInfo("Europe/Stockholm"))


def _context(smart_lists: dict[str, SmartListRules] | None = None) -> CompileContext:
    lists = {
        ("default", name.casefold()): SmartList(
            workspace="Default", folder=(), name=name, rules=rules
        )
        for name, rules in (smart_lists or {}).items()
    }
    return CompileContext(
        catalogue=Catalogue.standard(),
        person=person_table(FieldRegistry.standard()),
        moment=MOMENT,
        references=References(static_lists={("default", "vip"): 3}, smart_lists=lists),
    )


def _member_of(name: str) -> SmartListRules:
    return SmartListRules(
        filters=(Rule(name="Member of Smart List", operator="in", values=(name,)),)
    )


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        (
            SmartListRules(filters=(Rule(name="Shoe Size", operator="is", values=("9",)),)),
            "unknown filter",
        ),
        (
            SmartListRules(filters=(Rule(name="Lead Score", operator="contains", values=("1",)),)),
            "does not fit",
        ),
        (
            SmartListRules(
                filters=(Rule(name="Lead Score", operator="at least", values=("ten",)),)
            ),
            "holds numbers",
        ),
        (
            SmartListRules(filters=(Rule(name="Lead Score", operator="at least"),)),
            "exactly one value",
        ),
        (
            SmartListRules(filters=(Rule(name="Member of List", operator="in", values=("Nope",)),)),
            "no static list",
        ),
        (
            SmartListRules(
                filters=(
                    Rule(
                        name="Visited Web Page",
                        constraints=(Condition(name="Colour", operator="is", values=("x",)),),
                    ),
                )
            ),
            "no constraint",
        ),
        (
            SmartListRules(
                filters=tuple(Rule(name="Lead Score", operator="is empty") for _ in range(3)),
                match_type=FilterMatchType.ADVANCED,
                advanced_logic="1 and 2 or 3",
            ),
            "mixed",
        ),
        (
            SmartListRules(
                filters=tuple(Rule(name="Lead Score", operator="is empty") for _ in range(3)),
                match_type=FilterMatchType.ADVANCED,
                advanced_logic="1 and 2 and 7",
            ),
            "filter 7 does not exist",
        ),
        (_member_of("A"), "cycle"),
        (_member_of("Broken"), "which is invalid"),
    ],
)
def test_invalid_smart_list_compiles_to_false_with_reasons(
    rules: SmartListRules, reason: str
) -> None:
    """SL-9 reasons are reported and the list qualifies nobody (SL-10)."""
    ctx = _context(
        {
            "A": _member_of("B"),
            "B": _member_of("A"),
            "Broken": SmartListRules(
                filters=(Rule(name="Shoe Size", operator="is", values=("9",)),)
            ),
        }
    )
    compiled = compile_rules(rules, ctx)
    assert not compiled.valid
    assert any(reason in problem for problem in compiled.problems), compiled.problems
    assert str(compiled.predicate.compile(dialect=sqlite.dialect())) in ("0", "false")


def test_no_filters_qualifies_everyone() -> None:
    """SL-3: no filters is true."""
    compiled = compile_rules(SmartListRules(), _context())
    assert compiled.valid and str(compiled.predicate.compile(dialect=sqlite.dialect())) == "1"


def _activity(type_id: int, primary: str | None = None, **attributes: object) -> Activity:
    return Activity(
        id=1, person_id=1, activity_type_id=type_id, activity_date=MOMENT.now,
        primary_attribute_value=primary, attributes=attributes,
    )  # fmt: skip


def test_trigger_matches_type_primary_and_constraints() -> None:
    """SL-20: type, primary value and every constraint; absent attribute = empty; SL-2 OR."""
    rules = SmartListRules(
        triggers=(
            Rule(
                name="Visits Web Page",
                primary=Condition(name="Web Page", operator="contains", values=("pricing",)),
                constraints=(Condition(name="Browser", operator="not contains", values=("bot",)),),
            ),
            Rule(
                name="Campaign is Requested",
                constraints=(Condition(name="Source", operator="is any"),),
            ),
        )
    )
    triggers = compile_triggers(rules, Catalogue.standard(), MOMENT)
    assert triggers.matches(_activity(1, "/Pricing"))  # absent Browser is empty
    assert not triggers.matches(_activity(1, "/Pricing", Browser="GoogleBot"))
    assert not triggers.matches(_activity(1, "/docs"))
    assert not triggers.matches(_activity(2, "/Pricing"))
    assert triggers.matching(_activity(47, "Nurture")) == ("Campaign is Requested",)
    assert triggers.activity_type_ids == {1, 47}


def test_trigger_refuses_filter_only_constraints() -> None:
    """SL-21: Date of Activity and Min. Number of Times are filter-only."""
    rule = Rule(
        name="Visits Web Page",
        constraints=(Condition(name="Date of Activity", operator="in past", values=("1 day",)),),
    )
    with pytest.raises(InvalidSmartList, match="filters only"):
        compile_triggers(SmartListRules(triggers=(rule,)), Catalogue.standard(), MOMENT)


PRICING_VISIT = Rule(
    name="Visits Web Page",
    primary=Condition(name="Web Page", operator="contains", values=("pricing",)),
)
SCORED = Rule(name="Lead Score", operator="at least", values=(50,))


def _sql(compiled: object) -> str:
    return str(compiled.predicate.compile(dialect=sqlite.dialect()))  # type: ignore[attr-defined]


def test_campaign_smart_list_reports_every_invalid_trigger() -> None:
    """SL-9, SL-21, SL-26: each bad trigger is a reason; the list qualifies nobody (SL-10)."""
    rules = SmartListRules(
        triggers=(
            Rule(name="Shoe Is Tied"),
            Rule(name="Visited Web Page"),
            Rule(
                name="Visits Web Page",
                constraints=(
                    Condition(name="Date of Activity", operator="in past", values=("1 day",)),
                ),
            ),
            Rule(
                name="Visits Web Page",
                primary=Condition(name="Web Page", operator="greater than", values=("5",)),
            ),
            Rule(
                name="Fills Out Form",
                constraints=(Condition(name="Shoe Size", operator="is", values=("9",)),),
            ),
            Rule(
                name="Visits Web Page",
                primary=Condition(name="Web Page", operator="contains", values=()),
            ),
            PRICING_VISIT,
        ),
        filters=(SCORED,),
    )
    compiled = compile_campaign_rules(rules, _context())
    assert not compiled.valid
    expected = [
        ("trigger 1 (Shoe Is Tied)", "unknown trigger"),
        ("trigger 2 (Visited Web Page)", "is a filter, not a trigger"),
        ("trigger 3 (Visits Web Page)", "filters only"),
        ("trigger 4 (Visits Web Page)", "does not fit"),
        ("trigger 5 (Fills Out Form)", "no constraint 'Shoe Size'"),
        ("trigger 6 (Visits Web Page)", "SL-9"),
    ]
    assert len(compiled.problems) == len(expected), compiled.problems
    for problem, (where, reason) in zip(compiled.problems, expected, strict=True):
        assert problem.startswith(where) and reason in problem, problem
    assert _sql(compiled) in ("0", "false")
    assert not compiled.triggers.matchers
    assert not compiled.fired_by(_activity(1, "/pricing"))


def test_campaign_smart_list_with_an_invalid_filter_fires_for_nothing() -> None:
    """SL-10: valid triggers do not rescue a list whose filter is invalid."""
    rules = SmartListRules(
        triggers=(PRICING_VISIT,),
        filters=(Rule(name="Shoe Size", operator="is", values=("9",)),),
    )
    compiled = compile_campaign_rules(rules, _context())
    assert [p.split(":")[0] for p in compiled.problems] == ["filter 1 (Shoe Size)"]
    assert not compiled.fired_by(_activity(1, "/pricing"))


def test_campaign_smart_list_compiles_triggers_and_filters() -> None:
    """SL-2: triggers OR-ed outside the logic; the filters compile as for a stand-alone list."""
    rules = SmartListRules(
        triggers=(PRICING_VISIT, Rule(name="Fills Out Form")),
        filters=(SCORED, Rule(name="Unsubscribed", operator="is false")),
        match_type=FilterMatchType.ANY,
    )
    compiled = compile_campaign_rules(rules, _context())
    assert compiled.valid, compiled.problems
    assert compiled.triggers.activity_type_ids == {1, 2}
    assert compiled.fired_by(_activity(1, "/Pricing"))
    assert compiled.fired_by(_activity(2, "Contact Us"))
    assert not compiled.fired_by(_activity(1, "/docs"))
    assert not compiled.fired_by(_activity(10, "/pricing"))
    filters_only = SmartListRules(filters=rules.filters, match_type=rules.match_type)
    assert _sql(compiled) == _sql(compile_rules(filters_only, _context()))


def test_campaign_smart_list_without_triggers_fires_for_any_activity() -> None:
    """SL-2: no triggers means the filters decide alone (batch and requested campaigns)."""
    compiled = compile_campaign_rules(SmartListRules(filters=(SCORED,)), _context())
    assert compiled.valid and compiled.fired_by(_activity(6, "Mailing"))


def test_stand_alone_smart_list_with_a_trigger_is_invalid() -> None:
    """SL-7: stand-alone lists hold filters only; lists referencing one are invalid (SL-10)."""
    with_trigger = SmartListRules(triggers=(PRICING_VISIT,), filters=(SCORED,))
    compiled = compile_rules(with_trigger, _context())
    assert not compiled.valid
    assert compiled.problems[0].startswith("trigger 1 (Visits Web Page)")
    assert "SL-7" in compiled.problems[0]
    referencing = compile_rules(_member_of("Triggered"), _context({"Triggered": with_trigger}))
    assert not referencing.valid
    assert "SL-7" in referencing.problems[0], referencing.problems


GOLDEN_RULES = SmartListRules(
    filters=(
        Rule(name="Lead Score", operator="at least", values=(50,)),
        Rule(
            name="Visited Web Page",
            primary=Condition(name="Web Page", operator="contains", values=("pricing",)),
        ),
        Rule(
            name="Opened Email",
            constraints=(
                Condition(name="Is Mobile Device", operator="is true"),
                Condition(name="Min. Number of Times", operator="at least", values=(2,)),
            ),
        ),
        Rule(name="Member of List", operator="not in", values=("VIP",)),
    ),
    match_type=FilterMatchType.ADVANCED,
    advanced_logic="1 and (2 or 3) and not 4",
)


@pytest.mark.parametrize(
    "dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"]
)
def test_golden_sql(dialect: object) -> None:
    """The compiled count for both dialects; names and values are bound, never inlined."""
    ctx = _context()
    sql = str(count_query(compile_rules(GOLDEN_RULES, ctx), ctx).compile(dialect=dialect)) + "\n"  # type: ignore[call-overload]
    path = GOLDEN / f"advanced_count.{dialect.name}.sql"  # type: ignore[attr-defined]
    if os.environ.get("KAMPANJ_REGENERATE_GOLDEN"):
        path.write_text(sql)
    assert sql == path.read_text()
    for text in ("pricing", "Is Mobile Device", "VIP"):
        assert text not in sql


@pytest.mark.parametrize(("window", "bounds"), [("7 days", 1), ("1 year", 2)])
def test_retention_bound_only_when_the_window_reaches_past_it(window: str, bounds: int) -> None:
    """ACT-8: Visited Web Page keeps 90 days; a window inside them needs no second bound."""
    rule = Rule(
        name="Visited Web Page",
        constraints=(Condition(name="Date of Activity", operator="in past", values=(window,)),),
    )
    compiled = compile_rules(SmartListRules(filters=(rule,)), _context())
    assert compiled.valid, compiled.problems
    assert _sql(compiled).count("activity.activity_date >=") == bounds
