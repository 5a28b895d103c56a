"""Smart lists to SQL: one boolean over ``person`` per smart list (DESIGN.md §3).

Each filter compiles to a two-valued predicate (column comparison, activity subquery,
membership subquery); the filter logic (All, Any, Advanced — SL-3, SL-4) combines them
with ``and_`` / ``or_`` / ``not_``. Triggers are not part of the boolean: they are
matched in memory (`kampanj.smartlist.triggers`) and only decide *when* the filters are
checked (SL-2). A smart list that is invalid for any SL-9 reason compiles to ``false``
and carries its reasons (SL-10).

Two entry points: `compile_rules` for stand-alone smart lists (filters only, SL-7: a
trigger there makes the list invalid) and `compile_campaign_rules` for a campaign's whole
smart list, whose triggers are compiled to matchers and checked with the filters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, and_, false, func, not_, or_, select, true

from kampanj.model.activities import Activity
from kampanj.model.smartlists import FilterMatchType, Rule, SmartListRules
from kampanj.smartlist import compile_activities as activities
from kampanj.smartlist import compile_fields as fields
from kampanj.smartlist import compile_membership as membership
from kampanj.smartlist.backends import merge_sets
from kampanj.smartlist.catalogue import (
    MEMBER_OF_LIST,
    MEMBER_OF_PROGRAM,
    MEMBER_OF_SMART_CAMPAIGN,
    MEMBER_OF_SMART_LIST,
    CatalogueEntry,
    RuleKind,
)
from kampanj.smartlist.context import CompileContext, InvalidSmartList
from kampanj.smartlist.logic import (
    And,
    FilterRef,
    LogicNode,
    Not,
    Or,
    check_logic,
    parse_logic_expression,
)
from kampanj.smartlist.triggers import NO_TRIGGERS, TriggerMatcher, TriggerSet, compile_trigger

T = TypeVar("T")

FilterCompiler = Callable[[Rule, CatalogueEntry, CompileContext], ColumnElement[bool]]
FilterExplainer = Callable[[Connection, Rule, CatalogueEntry, CompileContext, int], dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
class CompiledSmartList:
    """A smart list's filters as SQL, ready to select persons."""

    predicate: ColumnElement[bool]
    """The whole filter logic over ``person``; ``false`` when invalid."""
    filters: tuple[ColumnElement[bool], ...]
    """One predicate per filter, in filter order (empty when invalid)."""
    logic: LogicNode | None
    """The logic tree over filter numbers; None for no filters or an invalid list."""
    problems: tuple[str, ...] = ()
    """Why the smart list is invalid (SL-9); empty when valid."""
    triggers: TriggerSet = NO_TRIGGERS
    """A campaign's triggers as in-memory matchers (empty for stand-alone lists and
    whenever the list is invalid)."""

    @property
    def valid(self) -> bool:
        return not self.problems

    def fired_by(self, activity: Activity) -> bool:
        """Whether ``activity`` lets the filters be checked (SL-2, SL-10).

        True for a valid list without triggers (batch qualification) or when a trigger
        matches; never for an invalid list.
        """
        if not self.valid:
            return False
        return not self.triggers.matchers or self.triggers.matches(activity)


def _nested(rules: SmartListRules, ctx: CompileContext) -> ColumnElement[bool]:
    compiled = compile_rules(rules, ctx)
    if not compiled.valid:
        raise InvalidSmartList("; ".join(compiled.problems))
    return compiled.predicate


def _compile_smart_list_membership(
    rule: Rule, entry: CatalogueEntry, ctx: CompileContext
) -> ColumnElement[bool]:
    return membership.compile_member_of_smart_list(rule, entry, ctx, _nested)


def _explain_smart_list_membership(
    connection: Connection, rule: Rule, entry: CatalogueEntry, ctx: CompileContext, person: int
) -> dict[str, Any]:
    return membership.explain_member_of_smart_list(connection, rule, entry, ctx, person, _nested)


# One (compile, explain) pair per filter type (STYLE habit 5).
_MEMBERSHIP: dict[str, tuple[FilterCompiler, FilterExplainer]] = {
    MEMBER_OF_LIST: (membership.compile_member_of_list, membership.explain_member_of_list),
    MEMBER_OF_SMART_LIST: (_compile_smart_list_membership, _explain_smart_list_membership),
    MEMBER_OF_PROGRAM: (membership.compile_member_of_program, membership.explain_member_of_program),
    MEMBER_OF_SMART_CAMPAIGN: (
        membership.compile_member_of_smart_campaign,
        membership.explain_member_of_smart_campaign,
    ),
}
_BY_KIND: dict[RuleKind, tuple[FilterCompiler, FilterExplainer]] = {
    RuleKind.ATTRIBUTE: (fields.compile_attribute, fields.explain_attribute),
    RuleKind.ACTIVITY: (activities.compile_activity, activities.explain_activity),
    RuleKind.INACTIVITY: (activities.compile_activity, activities.explain_activity),
}


def filter_entry(rule: Rule, ctx: CompileContext) -> CatalogueEntry:
    """The catalogue entry of a filter, or `InvalidSmartList` (SL-9, SL-26)."""
    entry = ctx.catalogue.filter(rule.name) if rule.name else None
    if entry is None:
        if rule.name and ctx.catalogue.trigger(rule.name) is not None:
            raise InvalidSmartList(f"{rule.name!r} is a trigger, not a filter (SL-7)")
        raise InvalidSmartList(
            f"unknown filter {rule.name!r}: no field, activity or membership filter has that "
            "name (SL-9)"
        )
    return entry


def family(entry: CatalogueEntry) -> tuple[FilterCompiler, FilterExplainer]:
    """The compile and explain functions of a filter type."""
    if entry.kind is RuleKind.MEMBERSHIP:
        return _MEMBERSHIP[entry.name]
    return _BY_KIND[entry.kind]


def compile_filter(rule: Rule, ctx: CompileContext) -> ColumnElement[bool]:
    """One filter as a two-valued predicate over ``person``; raises `InvalidSmartList`."""
    entry = filter_entry(rule, ctx)
    compile_one, _ = family(entry)
    return compile_one(rule, entry, ctx)


def logic_tree(rules: SmartListRules) -> LogicNode | None:
    """The filter logic as a tree (None when there are no filters); raises on SL-5 errors."""
    count = len(rules.filters)
    if rules.match_type is FilterMatchType.ADVANCED or rules.advanced_logic is not None:
        problems = check_logic(rules.advanced_logic or "", count)
        if problems:
            raise InvalidSmartList(
                f"filter logic {rules.advanced_logic!r}: {'; '.join(problems)} (SL-5)"
            )
        return parse_logic_expression(rules.advanced_logic or "")
    if count == 0:
        return None
    refs = tuple(FilterRef(n) for n in range(1, count + 1))
    if count == 1:
        return refs[0]
    return Or(refs) if rules.match_type is FilterMatchType.ANY else And(refs)


def evaluate_logic(
    node: LogicNode,
    leaves: Sequence[T],
    *,
    both: Callable[[Sequence[T]], T],
    either: Callable[[Sequence[T]], T],
    negate: Callable[[T], T],
) -> T:
    """Fold a logic tree over leaf values (SQL predicates or plain booleans)."""

    def fold(current: LogicNode) -> T:
        match current:
            case FilterRef(number):
                return leaves[number - 1]
            case Not(operand):
                return negate(fold(operand))
            case And(operands):
                return both([fold(o) for o in operands])
            case Or(operands):
                return either([fold(o) for o in operands])
        raise TypeError(current)  # pragma: no cover

    return fold(node)


def compile_rules(rules: SmartListRules, ctx: CompileContext) -> CompiledSmartList:
    """A stand-alone smart list: filters and logic; ``false`` when invalid (SL-7, SL-10).

    Triggers have no place here (SL-7); each one is reported as a problem.
    """
    problems = [
        f"trigger {number} ({rule.name}): stand-alone smart lists hold filters only; "
        "triggers belong in a campaign's smart list (SL-7)"
        for number, rule in enumerate(rules.triggers, start=1)
    ]
    return _compile(rules, ctx, problems=problems)


def compile_campaign_rules(rules: SmartListRules, ctx: CompileContext) -> CompiledSmartList:
    """A campaign's whole smart list: triggers, filters and logic (SL-2, SL-9, SL-10).

    Every trigger is checked like the filters (unknown trigger, constraint or operator,
    missing or mistyped value, filter-only constraint); any problem, in a trigger or a
    filter, makes the whole list invalid so that it qualifies nobody. The engine uses
    `CompiledSmartList.fired_by` on each activity and the predicate for the person.
    """
    matchers: list[TriggerMatcher] = []
    problems: list[str] = []
    for number, rule in enumerate(rules.triggers, start=1):
        try:
            matchers.append(compile_trigger(rule, ctx.catalogue, ctx.moment))
        except InvalidSmartList as error:
            problems.append(f"trigger {number} ({rule.name}): {error}")
    return _compile(rules, ctx, problems=problems, triggers=TriggerSet(matchers=tuple(matchers)))


def _compile(
    rules: SmartListRules,
    ctx: CompileContext,
    *,
    problems: list[str],
    triggers: TriggerSet = NO_TRIGGERS,
) -> CompiledSmartList:
    """Compile every filter and the logic after the trigger ``problems`` found so far."""
    predicates: list[ColumnElement[bool]] = []
    for number, rule in enumerate(rules.filters, start=1):
        try:
            predicates.append(compile_filter(rule, ctx))
        except InvalidSmartList as error:
            problems.append(f"filter {number} ({rule.name}): {error}")
    tree: LogicNode | None = None
    try:
        tree = logic_tree(rules)
    except InvalidSmartList as error:
        problems.append(str(error))
    if problems:
        return CompiledSmartList(
            predicate=false(), filters=(), logic=None, problems=tuple(problems)
        )
    if tree is None:
        return CompiledSmartList(
            predicate=true(), filters=(), logic=None, triggers=triggers
        )  # SL-3
    predicate = evaluate_logic(
        tree,
        predicates,
        both=lambda parts: and_(*parts),
        either=lambda parts: or_(*merge_sets(parts)),
        negate=not_,
    )
    return CompiledSmartList(
        predicate=predicate, filters=tuple(predicates), logic=tree, triggers=triggers
    )


def members_query(
    compiled: CompiledSmartList, ctx: CompileContext, *, limit: int | None = None
) -> Select[Any]:
    """Ids of the persons the smart list qualifies, ascending."""
    statement = select(ctx.person.c.id).where(compiled.predicate).order_by(ctx.person.c.id)
    return statement.limit(limit) if limit is not None else statement


def count_query(compiled: CompiledSmartList, ctx: CompileContext) -> Select[Any]:
    """How many persons the smart list qualifies."""
    return select(func.count()).select_from(ctx.person).where(compiled.predicate)
